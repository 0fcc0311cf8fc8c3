from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "kefu.quality"
    label = "quality"
    verbose_name = _("质检")

    def ready(self) -> None:
        from . import audit_verbs, nav, tasks  # noqa: F401
