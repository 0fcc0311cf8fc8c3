from django.utils.translation import gettext_lazy as _

from kefu.core.audit import register_verbs

register_verbs(
    {
        "ticket.created": _("登记工单"),
        "ticket.updated": _("修改工单"),
        "ticket.dispatched": _("派单"),
        "ticket.hop_accepted": _("接单"),
        "ticket.hop_auto_accepted": _("超时视为接单"),
        "ticket.hop_returned": _("退回派单方"),
        "ticket.result_returned": _("返回处理结果"),
        "ticket.replied": _("答复客户"),
        "ticket.waiting_customer": _("等待客户补充"),
        "ticket.customer_responded": _("客户已补充"),
        "ticket.resolved": _("办结"),
        "ticket.referred": _("引导办理"),
        "ticket.acceptance_recorded": _("记录受理结果"),
        "ticket.reopened": _("重新处理"),
        "ticket.closed": _("归档"),
        "ticket.submitted_to_province": _("报送客户所属省10000+9"),
        "ticket.followed_up": _("省专席登记跟进并归档"),
        "ticket.reassigned": _("主管改派"),
        "ticket.noted": _("内部备注"),
        "ticket.attachment_added": _("上传附件"),
    }
)
