"""The only writers of the reports app: rollup runs, the mail outbox (enqueue, send, retry).

Mail is at-most-once per (report, month, recipient) in normal operation: the
outbox row is unique on that key, and a worker must win a one-row UPDATE
(pending/retrying -> sending) before it sends. Only a worker that dies between
the SMTP handover and marking the row sent can cause a repeat (the row comes
back after ``STALE_CLAIM``); that trade is deliberate: a lost report is worse.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q

from kefu.core import audit
from kefu.core.errors import Forbidden
from kefu.core.scope import Scope
from kefu.org.access import Actor, actor_for
from kefu.org.models import Unit

from . import export, months, rollup, selectors
from .models import MailStatus, OutboundMail, Recipient, ReportKind

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BASE_BACKOFF = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=6)
STALE_CLAIM = timedelta(minutes=15)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

NATIONAL_UNIT_KINDS = frozenset({Unit.Kind.HQ_SERVICE, Unit.Kind.HQ_BUSINESS, Unit.Kind.OPERATOR})


def backoff(attempts: int) -> timedelta:
    """5 min, 10, 20, 40 … capped at 6 h."""
    return min(BASE_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


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
    if recipient.user_id is not None:
        actor = actor_for(recipient.user)  # type: ignore[arg-type]
        if not actor.user.is_active or not actor.can("reports.view"):
            return Scope.nothing()
        user_scope = selectors.reader_scope(actor)
        if not user_scope.national:
            scope = (Scope.provinces(scope.province_ids & user_scope.province_ids) if not scope.national
                     else user_scope)
    return scope


def _promised_province(recipient: Recipient) -> int | None:
    """Enqueue-time answer to "which report": national units the national one, a branch its province's."""
    unit = recipient.unit
    return None if unit.kind in NATIONAL_UNIT_KINDS else unit.province_id


def _covers(scope: Scope, province_id: int | None) -> bool:
    return scope.national if province_id is None else scope.covers(province_id)


# -- outbox -----------------------------------------------------------------------------

@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    cancelled: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "failed": self.failed, "cancelled": self.cancelled, "skipped": self.skipped}


def mail_enqueue(*, actor: Actor | None, month: date, now: datetime) -> int:
    """One outbox row per active recipient for ``month``; rows that exist are left alone. Returns rows created."""
    created = 0
    with transaction.atomic():
        for recipient in Recipient.objects.filter(is_active=True).select_related("unit").order_by("pk"):
            mail, was_created = OutboundMail.objects.get_or_create(
                report=ReportKind.MONTHLY, month=month, recipient=recipient,
                defaults={"province_id": _promised_province(recipient), "email": recipient.email,
                          "next_attempt_at": now, "created_at": now, "requested_by": _user(actor)},
            )
            if was_created:
                created += 1
        if created:
            audit.record(actor=_user(actor), verb="reports.mail_enqueued", target=mail,
                         data={"month": months.key(month), "created": created})
    return created


def _claim(mail_id: int, now: datetime) -> bool:
    due = Q(status__in=[MailStatus.PENDING, MailStatus.RETRYING], next_attempt_at__lte=now) | Q(
        status=MailStatus.SENDING, claimed_at__lt=now - STALE_CLAIM)
    return OutboundMail.objects.filter(due, pk=mail_id).update(status=MailStatus.SENDING, claimed_at=now) == 1


def _attachment(mail: OutboundMail, cache: dict[tuple[date, int | None], tuple[str, bytes, str]],
                now: datetime) -> tuple[str, bytes, str]:
    key = (mail.month, mail.province_id)
    if key not in cache:
        scope = Scope.everything() if mail.province_id is None else Scope.provinces([mail.province_id])
        slug = None if mail.province_id is None else mail.province.slug  # type: ignore[union-attr]
        aud = selectors.audience(scope, slug)
        table = selectors.monthly_table(aud, mail.month)
        data = export.to_xlsx(table, scope_label=aud.label, generated_at=now, scope=aud.scope)
        cache[key] = (f"新视通投诉故障月报_{months.key(mail.month)}_{aud.label}.xlsx", data,
                      export.title_of(table, aud.label))
    return cache[key]


def mail_send_due(*, now: datetime, limit: int = 200) -> SendResult:
    """Send what is due. Safe to run from several workers at once."""
    result = SendResult()
    cache: dict[tuple[date, int | None], tuple[str, bytes, str]] = {}
    due = (OutboundMail.objects.filter(
        Q(status__in=[MailStatus.PENDING, MailStatus.RETRYING], next_attempt_at__lte=now)
        | Q(status=MailStatus.SENDING, claimed_at__lt=now - STALE_CLAIM))
        .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    connection = None
    try:
        for mail_id in list(due):
            if not _claim(mail_id, now):
                result.skipped += 1
                continue
            mail = OutboundMail.objects.select_related("recipient__unit", "province").get(pk=mail_id)
            if not _covers(recipient_scope(mail.recipient), mail.province_id):
                _finish(mail, MailStatus.CANCELLED, now, error="收件人当前范围不含该报表，未发送 / recipient scope changed")
                result.cancelled += 1
                continue
            if mail.email != mail.recipient.email:  # corrected in admin since enqueueing: use the current one
                mail.email = mail.recipient.email
                OutboundMail.objects.filter(pk=mail.pk).update(email=mail.email)
            try:
                name, data, subject = _attachment(mail, cache, now)
                if connection is None:
                    connection = get_connection()
                message = EmailMessage(
                    subject=subject,
                    body=_body(mail, subject),
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    to=[mail.email],
                    connection=connection,
                )
                message.attach(name, data, XLSX)
                message.send(fail_silently=False)
            except Exception as exc:  # noqa: BLE001 - any SMTP or build failure is retried and shown
                log.warning("report mail %s failed: %s", mail.pk, exc)
                connection = None
                _fail(mail, now, exc)
                result.failed += 1
                result.errors.append(f"{mail.email}: {exc}")
                continue
            _finish(mail, MailStatus.SENT, now)
            result.sent += 1
    finally:
        if connection is not None:
            with contextlib.suppress(Exception):  # closing a broken connection is not news
                connection.close()
    return result


def _body(mail: OutboundMail, subject: str) -> str:
    return (
        f"{mail.recipient.name}：\n\n"
        f"附件为《{subject}》。\n"
        "统计口径：按工单登记时间(北京时间)计入月份，投诉/故障按工单当前分类统计；详见附件“口径说明”页。\n\n"
        "本邮件由新视通(4G版)客服平台自动发送，请勿直接回复。\n"
    )


def _finish(mail: OutboundMail, status: str, now: datetime, error: str = "") -> None:
    with transaction.atomic():
        OutboundMail.objects.filter(pk=mail.pk).update(
            status=status, sent_at=now if status == MailStatus.SENT else None, last_error=error, claimed_at=None,
            attempts=mail.attempts + (1 if status == MailStatus.SENT else 0))
        mail.status = status
        audit.record(actor=None, verb=f"reports.mail_{status}", target=mail,
                     data={"month": months.key(mail.month), "email": mail.email},
                     province_code=mail.province.code if mail.province else "")


def _fail(mail: OutboundMail, now: datetime, exc: Exception) -> None:
    attempts = mail.attempts + 1
    status = MailStatus.FAILED if attempts >= MAX_ATTEMPTS else MailStatus.RETRYING
    with transaction.atomic():
        OutboundMail.objects.filter(pk=mail.pk).update(
            status=status, attempts=attempts, next_attempt_at=now + backoff(attempts),
            last_error=f"{type(exc).__name__}: {exc}"[:1000], claimed_at=None)
        audit.record(actor=None, verb="reports.mail_failed" if status == MailStatus.FAILED else "reports.mail_retry",
                     target=mail, data={"attempts": attempts, "error": type(exc).__name__})


def require_mail_admin(actor: Actor) -> None:
    """The outbox lists every province's recipients: an HQ (national) administrator's tool."""
    actor.require("reports.mail")
    if not selectors.reader_scope(actor, "reports.mail").national:
        raise Forbidden("报表邮件由集团(全国)管理员管理。", "Report mail is managed by national administrators.",
                        code="national_only")


def mail_retry(*, actor: Actor, mail_ids: list[int] | None, now: datetime) -> int:
    """Put failed (or retrying) mails back to pending now. ``None`` = every failed one."""
    require_mail_admin(actor)
    with transaction.atomic():
        qs = OutboundMail.objects.select_for_update().filter(status__in=[MailStatus.FAILED, MailStatus.RETRYING])
        if mail_ids is not None:
            qs = qs.filter(pk__in=mail_ids)
        rows = list(qs)
        for mail in rows:
            OutboundMail.objects.filter(pk=mail.pk).update(status=MailStatus.PENDING, next_attempt_at=now,
                                                           attempts=0)
            audit.record(actor=_user(actor), verb="reports.mail_requeued", target=mail)
    return len(rows)


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
            unit=unit, email=f"report-{unit.code}@{domain}", defaults={"name": name})
        created += int(was_created)
    return created
