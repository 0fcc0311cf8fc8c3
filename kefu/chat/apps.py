from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "kefu.chat"
    label = "chat"
    verbose_name = _("在线客服")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import audit_verbs, protocol  # noqa: F401  (registers verbs, the group kind and the actions)
        from .panels import register as register_panels

        register_panels()
