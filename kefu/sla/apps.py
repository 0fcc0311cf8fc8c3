from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "kefu.sla"
    label = "sla"
    verbose_name = _("服务时限")

    def ready(self) -> None:
        from . import audit_verbs, panels, tasks  # noqa: F401
