from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NormsConfig(AppConfig):
    name = "kefu.norms"
    label = "norms"
    verbose_name = _("服务规范")

    def ready(self) -> None:
        from . import audit_verbs, nav  # noqa: F401
