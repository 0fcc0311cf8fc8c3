from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "kefu.customers"
    label = "customers"
    verbose_name = _("客户")

    def ready(self) -> None:
        from kefu.core.registry import NavItem, register_nav

        from . import audit_verbs  # noqa: F401

        register_nav(NavItem(_("客户"), "customers:list", "customer.view", order=30))
