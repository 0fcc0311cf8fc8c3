from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallsConfig(AppConfig):
    name = "kefu.calls"
    label = "calls"
    verbose_name = _("热线话务")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import audit_verbs, panels, tasks  # noqa: F401  (registration side effects)
