"""The work orders' notices: a complaint the hotline (or online) submits to the customer's
10000+9 desk (第三条(三)3) reaches that desk by a live push and a mail to its leads.

Both are written in the submitting service's transaction and leave after commit: the push through
``kefu.realtime.publish`` (stored, then sent to ``team.<desk id>``), the mail through the one outbox
(``kefu.core.outbox``: retried with back-off, once per hop).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu import realtime
from kefu.core import outbox
from kefu.core.links import absolute_url
from kefu.org.models import Membership, Role, Team

from .models import Hop, Ticket

SUBMITTED = "tickets.submitted_to_province"
SUBMITTED_EVENT = "tickets.submitted"

outbox.register(SUBMITTED, _("热线报送投诉通知"))


def desk_leads(desk: Team) -> list[str]:
    """Who is told by mail: the desk's supervisors (active, with an address), else the team's mailbox."""
    emails = sorted(
        {
            e
            for e in Membership.objects.filter(
                team=desk, role=Role.SUPERVISOR, is_active=True, user__is_active=True
            ).values_list("user__email", flat=True)
            if e
        }
    )
    return emails or ([desk.email] if desk.email else [])


def submitted_notice(*, ticket: Ticket, hop: Hop, desk: Team) -> None:
    """Push and mail the desk about a submitted complaint. Call inside the submitting transaction."""
    url = reverse("tickets:detail", args=[ticket.number])
    realtime.publish(
        f"team.{desk.pk}",
        SUBMITTED_EVENT,
        {
            "number": ticket.number,
            "subject": ticket.subject,
            "from_team": hop.from_team.name,
            "customer": ticket.customer.name,
            "url": url,
        },
    )
    to = desk_leads(desk)
    if not to:
        return
    at = timezone.localtime(hop.created_at).strftime("%Y-%m-%d %H:%M")
    body = "\n".join(
        [
            f"{desk.name}：",
            "",
            f"{hop.from_team.name}于 {at}(北京时间)向本省报送一件客户投诉(第三条(三)3)，请登记并跟进。",
            "",
            f"工单号：{ticket.number}",
            f"客户：{ticket.customer.name}",
            f"主题：{ticket.subject}",
            f"问题描述：{ticket.description or '—'}",
            f"热线处理结果：{hop.result or '—'}",
            f"报送说明：{hop.note or '—'}",
            "",
            f"在工作台「热线报送投诉」队列中查看：{absolute_url(url)}",
        ]
    )
    outbox.enqueue(
        purpose=SUBMITTED,
        key=f"hop:{hop.pk}",
        to=to,
        subject=f"【热线报送投诉】{ticket.number} {ticket.subject}"[:200],
        body=body,
        ref=f"ticket:{ticket.number}",
        now=hop.created_at,
    )
