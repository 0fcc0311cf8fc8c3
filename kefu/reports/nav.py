from django.utils.translation import gettext_lazy as _

from kefu.core.audit import register_verbs
from kefu.core.registry import NavItem, register_nav

register_nav(NavItem(_("统计报表"), "reports:dashboard", "reports.view", order=600))
register_nav(NavItem(_("报表邮件"), "reports:mail", "reports.mail", order=610))

register_verbs(
    {
        "reports.mail_enqueued": _("生成报表邮件"),
        "reports.mail_sent": _("报表邮件已发送"),
        "reports.mail_retry": _("报表邮件发送失败，等待重试"),
        "reports.mail_failed": _("报表邮件发送失败"),
        "reports.mail_cancelled": _("报表邮件已取消(收件人范围不符)"),
        "reports.mail_requeued": _("报表邮件重新排队"),
    }
)
