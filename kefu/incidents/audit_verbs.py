from django.utils.translation import gettext_lazy as _

from kefu.core.audit import register_verbs

register_verbs(
    {
        "incident.declared": _("宣告平台突发事件"),
        "incident.updated": _("更新事件进展"),
        "incident.status_changed": _("变更事件状态"),
        "incident.hq_seen": _("集团确认收到事件报告"),
        "incident.bulletin_issued": _("下发事件通报"),
        "incident.bulletin_acknowledged": _("确认收到事件通报"),
        "incident.receipts_reminded": _("提醒确认事件通报"),
        "incident.order_linked": _("关联工单到事件"),
        "incident.order_unlinked": _("取消工单与事件的关联"),
        "incident.contact_linked": _("关联在线会话/通话到事件"),
        "incident.contact_unlinked": _("取消在线会话/通话与事件的关联"),
        "incident.bulk_resolved": _("批量答复办结关联工单"),
        "incident.bulk_started": _("后台批量答复办结已开始"),
        "incident.system_seat_granted": _("批量办结：系统账号加入持单团队"),
        "incident.article_created": _("建立事件紧急知识"),
    }
)
