from django.utils.translation import gettext_lazy as _

from kefu.core.audit import register_verbs

register_verbs(
    {
        "chat.started": _("访客发起在线会话"),
        "chat.message_left": _("访客在服务时间外留言"),
        "chat.accepted": _("坐席接入在线会话"),
        "chat.transferred": _("转接在线会话"),
        "chat.closed": _("结束在线会话"),
        "chat.rated": _("访客评价在线会话"),
        "chat.ticket_created": _("由在线会话生成工单"),
        "chat.unmatched_customer_created": _("为未识别的在线留言建立省份客户账户"),
        "chat.presence": _("坐席状态变更"),
        "chat.settings_saved": _("修改在线客服设置"),
    }
)
