"""The only writers of the reports app: rollup runs, the mail outbox (enqueue, send, retry).

Mail is at-most-once per (report, month, recipient) in normal operation: the
ledger row is unique on that key, and so is its row in the one outbox
(``kefu.core.outbox``: claim before send, retries with back-off, a final
``failed`` state, ``retry`` as an audited service).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core import audit, outbox
from kefu.core.errors import Forbidden
from kefu.core.links import absolute_url
from kefu.core.models import OutboxMail, OutboxStatus
from kefu.core.scope import Scope
from kefu.org.access import Actor, actor_for
from kefu.org.models import Unit
from kefu.reports.codes import ReportCode

from . import export, months, rollup, selectors
from .models import MailStatus, OutboundMail, Recipient, ReportKind

log = logging.getLogger(__name__)

MAX_ATTEMPTS = outbox.MAX_ATTEMPTS
backoff = outbox.backoff
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

NATIONAL_UNIT_KINDS = frozenset({Unit.Kind.HQ_SERVICE, Unit.Kind.HQ_BUSINESS, Unit.Kind.OPERATOR})


def _user(actor: Actor | None) -> Any:
    return actor.user if actor is not None and actor.user.pk else None


# -- rollup ---------------------------------------------------------------------------


def rollup_run(*, now: datetime) -> rollup.RollupResult:
    return rollup.run(now=now)


def rollup_rebuild(*, month_list: list[date]) -> rollup.RollupResult:
    return rollup.rebuild_months(month_list)


# -- recipients' scope ----------------------------------------------------------------


def recipient_scope(recipient: Recipient) -> Scope:
    """What ``recipient`` may receive now: its unit's reach, narrowed by its user's rights if it has one."""
    unit = Unit.objects.get(pk=recipient.unit_id)
    if not recipient.is_active:
        return Scope.nothing()
    if unit.kind in NATIONAL_UNIT_KINDS:
        scope = Scope.everything()
    elif unit.province_id is not None:
        scope = Scope.provinces([unit.province_id])
    else:
        return Scope.nothing()
    if recipient.user is not None:
        actor = actor_for(recipient.user)
        if not actor.user.is_active or not actor.can("reports.view"):
            return Scope.nothing()
        user_scope = selectors.reader_scope(actor)
        if not user_scope.national:
            scope = (
                Scope.provinces(scope.province_ids & user_scope.province_ids)
                if not scope.national
                else user_scope
            )
    return scope


def _promised_province(recipient: Recipient) -> int | None:
    """Enqueue-time answer to "which report": national units the national one, a branch its province's."""
    unit = recipient.unit
    return None if unit.kind in NATIONAL_UNIT_KINDS else unit.province_id


def _covers(scope: Scope, province_id: int | None) -> bool:
    return scope.national if province_id is None else scope.covers(province_id)


# -- outbox -----------------------------------------------------------------------------
# ``OutboundMail`` is the report's ledger (which recipient gets which month's report); the
# delivery itself is one row of the one outbox (``kefu.core.outbox``, purpose ``reports.monthly``),
# whose outcome is mirrored back onto the ledger row (status, attempts, error) for the outbox page.

PURPOSE = "reports.monthly"
SendResult = outbox.SendResult


def outbox_key(mail: OutboundMail) -> str:
    return f"{mail.report}:{months.key(mail.month)}:{mail.recipient_id}"


def mail_enqueue(*, actor: Actor | None, month: date, now: datetime) -> int:
    """One outbox row per active recipient for ``month``; rows that exist are left alone. Returns rows created."""
    created = 0
    with transaction.atomic():
        for recipient in Recipient.objects.filter(is_active=True).select_related("unit").order_by("pk"):
            mail, was_created = OutboundMail.objects.get_or_create(
                report=ReportKind.MONTHLY,
                month=month,
                recipient=recipient,
                defaults={
                    "province_id": _promised_province(recipient),
                    "email": recipient.email,
                    "next_attempt_at": now,
                    "created_at": now,
                    "requested_by": _user(actor),
                },
            )
            if was_created:
                created += 1
                outbox.enqueue(
                    purpose=PURPOSE,
                    key=outbox_key(mail),
                    to=[recipient.email],
                    data={"outbound_id": mail.pk},
                    ref=f"reports.outboundmail:{mail.pk}",
                    now=now,
                    send_after_commit=False,
                )  # mail_month_now / the job send it
        if created:
            audit.record(
                actor=_user(actor),
                verb="reports.mail_enqueued",
                target=mail,
                data={"month": months.key(month), "created": created},
            )
    return created


def _attachment(mail: OutboundMail, cache: dict[Any, Any], now: datetime) -> tuple[str, bytes, str]:
    key = (mail.month, mail.province_id)
    if key not in cache:
        scope = Scope.everything() if mail.province_id is None else Scope.provinces([mail.province_id])
        slug = None if mail.province is None else mail.province.slug
        aud = selectors.audience(scope, slug)
        table = selectors.monthly_table(aud, mail.month)
        data = export.to_xlsx(table, scope_label=aud.label, generated_at=now, scope=aud.scope)
        cache[key] = (
            f"新视通投诉故障月报_{months.key(mail.month)}_{aud.label}.xlsx",
            data,
            export.title_of(table, aud.label),
        )
    return cache[key]


def _ledger(row: OutboxMail) -> OutboundMail:
    return OutboundMail.objects.select_related("recipient__unit", "province").get(pk=row.data["outbound_id"])


def render_monthly(row: OutboxMail, cache: dict[Any, Any]) -> outbox.Message:
    """At send time: check the recipient may still receive that report, use its current address, build the workbook."""
    mail = _ledger(row)
    if not _covers(recipient_scope(mail.recipient), mail.province_id):
        raise outbox.Cancel("收件人当前范围不含该报表，未发送 / recipient scope changed")
    if mail.email != mail.recipient.email:  # corrected in admin since enqueueing: use the current one
        mail.email = mail.recipient.email
        OutboundMail.objects.filter(pk=mail.pk).update(email=mail.email)
    name, data, subject = _attachment(mail, cache, timezone.now())
    return outbox.Message(
        subject=subject, body=_body(mail, subject, cache), to=[mail.email], attachments=[(name, data, XLSX)]
    )


def mirror_status(row: OutboxMail) -> None:
    """The outbox row's outcome onto the ledger row (and its audit event), in the outbox's transaction."""
    mail = _ledger(row)
    status: str = row.status  # the two status lists share their values
    OutboundMail.objects.filter(pk=mail.pk).update(
        status=status,
        attempts=row.attempts,
        last_error=row.last_error,
        sent_at=row.sent_at,
        next_attempt_at=row.next_attempt_at,
        claimed_at=row.claimed_at,
    )
    verbs: dict[str, str] = {
        MailStatus.SENT: "reports.mail_sent",
        MailStatus.CANCELLED: "reports.mail_cancelled",
        MailStatus.FAILED: "reports.mail_failed",
        MailStatus.RETRYING: "reports.mail_retry",
        MailStatus.PENDING: "reports.mail_requeued",
    }
    verb = verbs.get(status)
    if verb:
        audit.record(
            actor=None,
            verb=verb,
            target=mail,
            data={"month": months.key(mail.month), "email": mail.email, "attempts": row.attempts},
            province_code=mail.province.code if mail.province else "",
        )


outbox.register(PURPOSE, _("月报表邮件"), render=render_monthly, on_status=mirror_status)


def mail_send_due(*, now: datetime, limit: int = 200) -> outbox.SendResult:
    """Send the report mail that is due. Safe to run from several workers at once."""
    return outbox.send_due(now=now, limit=limit, purpose=PURPOSE)


def _body(mail: OutboundMail, subject: str, cache: dict[Any, Any]) -> str:
    from kefu.chat.reporting import mail_lines

    key = ("chat", mail.month, mail.province_id)  # one figure per report, not per recipient
    if key not in cache:
        scope = Scope.everything() if mail.province_id is None else Scope.provinces([mail.province_id])
        cache[key] = "".join(f"{line}\n" for line in mail_lines(scope, mail.month))
    highlights = cache[key]
    return (
        f"{mail.recipient.name}：\n\n"
        f"附件为《{subject}》。\n"
        f"{highlights}"
        "统计口径：按工单登记时间(北京时间)计入月份，投诉/故障按工单当前分类统计；详见附件“口径说明”页。\n"
        f"在平台查看月报：{absolute_url(reverse('reports:monthly'))}\n\n"
        "本邮件由新视通(4G版)客服平台自动发送，请勿直接回复。\n"
    )


def require_mail_admin(actor: Actor) -> None:
    """The outbox lists every province's recipients: an HQ (national) administrator's tool."""
    actor.require("reports.mail")
    if not selectors.reader_scope(actor, "reports.mail").national:
        raise Forbidden(
            "报表邮件由集团(全国)管理员管理。",
            "Report mail is managed by national administrators.",
            code=ReportCode.NATIONAL_ONLY,
        )


def mail_retry(
    *, actor: Actor | None, mail_ids: list[int] | None, now: datetime, month: date | None = None
) -> int:
    """Put failed (or retrying) report mails back to pending now, through the outbox. ``None`` = every one.

    ``actor=None`` is the operator's command on the server (``reports_mail --retry-failed``).
    """
    if actor is not None:
        require_mail_admin(actor)
    ledger = OutboundMail.objects.filter(status__in=[MailStatus.FAILED, MailStatus.RETRYING])
    if mail_ids is not None:
        ledger = ledger.filter(pk__in=mail_ids)
    if month is not None:
        ledger = ledger.filter(month=month)
    keys = [outbox_key(m) for m in ledger]
    rows = OutboxMail.objects.filter(
        purpose=PURPOSE, key__in=keys, status__in=[OutboxStatus.FAILED, OutboxStatus.RETRYING]
    )
    return outbox.retry(actor=_user(actor), queryset=rows, now=now)


def mail_month_now(*, actor: Actor | None, month: date, now: datetime) -> tuple[int, SendResult]:
    """The whole monthly run: bring the figures up to date, enqueue, send what is due."""
    rollup.run(now=now)
    created = mail_enqueue(actor=actor, month=month, now=now)
    return created, mail_send_due(now=now)


def recipients_seed(*, domain: str = "demo.xinshitong.example") -> int:
    """One recipient for HQ service and one per province branch (demo and first install)."""
    created = 0
    for unit in Unit.objects.filter(Q(kind=Unit.Kind.HQ_SERVICE) | Q(kind=Unit.Kind.PROVINCE_BRANCH)):
        name = "集团客户服务部统计" if unit.province_id is None else f"{unit.name}客服"
        _, was_created = Recipient.objects.get_or_create(
            unit=unit, email=f"report-{unit.code}@{domain}", defaults={"name": name}
        )
        created += int(was_created)
    return created
