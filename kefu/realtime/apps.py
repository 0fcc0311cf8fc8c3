from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RealtimeConfig(AppConfig):
    name = "kefu.realtime"
    label = "realtime"
    verbose_name = _("实时推送")
    default_auto_field = "django.db.models.BigAutoField"
