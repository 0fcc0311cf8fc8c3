from django.utils.translation import gettext_lazy as _

from kefu.core.audit import register_verbs

register_verbs(
    {
        "call.event": _("话务事件"),
        "call.ticket_linked": _("关联工单"),
        "calls.file_ingested": _("导入话单文件"),
        "calls.rate_alert": _("20 秒接通率低于目标"),
    }
)
