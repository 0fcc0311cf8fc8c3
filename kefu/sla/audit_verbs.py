from django.utils.translation import gettext_lazy as _

from kefu.core.audit import register_verbs

register_verbs(
    {
        "sla.clock.started": _("开始计时"),
        "sla.holiday_synced": _("节假日按 chinese_calendar 同步"),
        "sla.clock.stopped": _("停止计时"),
        "sla.clock.paused": _("暂停计时"),
        "sla.clock.resumed": _("恢复计时"),
        "sla.clock.reopened": _("重开后继续计时"),
        "sla.clock.warned": _("即将超时预警"),
        "sla.clock.breached": _("已超时"),
        "sla.clock.expired": _("时限到期，自动处理"),
    }
)
