from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "kefu.org"
    label = "org"
    verbose_name = _("组织与用户")

    def ready(self) -> None:
        from . import audit_verbs, panels  # noqa: F401
