from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "kefu.incidents"
    label = "incidents"
    verbose_name = _("平台突发事件")

    def ready(self) -> None:
        # Audit verb labels, the navigation entry and the home panel (HQ's in-app alert) register on import.
        for module in ("audit_verbs", "nav"):
            import_module(f"{self.name}.{module}")
