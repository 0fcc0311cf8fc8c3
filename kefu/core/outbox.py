"""The one outbox: every mail the product sends goes through here.

Use it from a service, inside the service's transaction::

    from kefu.core import outbox

    outbox.register("incidents.reminder", _("通报确认提醒"))          # once, at import
    outbox.enqueue(purpose="incidents.reminder", key=f"{receipt.pk}:{n}",
                   to=[team.email], subject=..., body=..., ref=f"incident:{inc.pk}")

- The row (:class:`~kefu.core.models.OutboxMail`) commits or rolls back with the
  business change; nothing is sent for a change that did not happen.
- After commit the new row is sent at once (``transaction.on_commit``); a failure
  leaves it ``retrying`` with back-off (5 min, 10, 20 … capped at 6 h) and the
  ``core.outbox`` job (every minute) sends whatever is due. After ``max_attempts``
  it is ``failed``: listed in the admin (邮件发件箱) and on the owning app's page,
  and :func:`retry` (a service, audited) puts it back.
- ``(purpose, key)`` is unique: enqueueing the same mail twice returns the first
  row, so a retried request or a job that runs twice does not mail twice. A worker
  must win a one-row UPDATE (claim) before it sends, so two workers never send the
  same row. Only a worker killed between the SMTP hand-over and marking the row
  sent can repeat a mail (the claim comes back after ``STALE_CLAIM``): a lost mail
  is judged worse than a rare repeat.
- A purpose may register ``render`` (build subject/body/attachments at send time,
  e.g. the monthly report's workbook, or raise :class:`Cancel`) and ``on_status``
  (mirror the outcome onto the app's own row). Apps put these in ``<app>/mail.py``,
  which is imported before any sending.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules

from . import audit
from .models import OutboxMail, OutboxStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BASE_BACKOFF = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=6)
STALE_CLAIM = timedelta(minutes=15)
DUE = (OutboxStatus.PENDING, OutboxStatus.RETRYING)
RETRYABLE = (OutboxStatus.FAILED, OutboxStatus.RETRYING, OutboxStatus.CANCELLED)


@dataclass
class Message:
    """What is handed to SMTP."""

    subject: str
    body: str
    to: list[str]
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)


class Cancel(Exception):  # noqa: N818 - a verdict, not a failure
    """Raised by a ``render`` hook: this mail must not be sent any more (the row ends ``cancelled``)."""


Render = Callable[[OutboxMail, dict[Any, Any]], Message]
OnStatus = Callable[[OutboxMail], None]


@dataclass(frozen=True)
class Purpose:
    name: str
    label: str | Promise
    render: Render | None = None
    on_status: OnStatus | None = None
    max_attempts: int = MAX_ATTEMPTS


_PURPOSES: dict[str, Purpose] = {}
_discovered = False


def register(
    name: str,
    label: str | Promise,
    *,
    render: Render | None = None,
    on_status: OnStatus | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> Purpose:
    """Declare a purpose (idempotent; call at import time of the app's ``mail``/``services`` module)."""
    purpose = Purpose(name, label, render, on_status, max_attempts)
    _PURPOSES[name] = purpose
    return purpose


def _discover() -> None:
    global _discovered
    if not _discovered:
        autodiscover_modules("mail")
        _discovered = True


def purpose_label(name: str) -> str:
    _discover()
    p = _PURPOSES.get(name)
    return str(p.label) if p else name


def backoff(attempts: int) -> timedelta:
    """5 min, 10, 20, 40 … capped at 6 h."""
    return min(BASE_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


# -- writing ---------------------------------------------------------------------------


def enqueue(
    *,
    purpose: str,
    key: str,
    to: Iterable[str] = (),
    subject: str = "",
    body: str = "",
    data: dict[str, Any] | None = None,
    ref: str = "",
    now: datetime | None = None,
    send_after_commit: bool = True,
) -> tuple[OutboxMail, bool]:
    """Put one mail in the outbox (in the caller's transaction). Returns ``(row, created)``.

    Same ``(purpose, key)`` again: the existing row, unchanged. Empty ``to`` is allowed
    only for a purpose whose ``render`` finds the recipients at send time.
    """
    now = now or timezone.now()
    recipients = sorted({e.strip() for e in to if e and e.strip()})
    with transaction.atomic():
        mail, created = OutboxMail.objects.get_or_create(
            purpose=purpose,
            key=key[:200],
            defaults={
                "to": recipients,
                "subject": subject[:200],
                "body": body,
                "data": data or {},
                "ref": ref[:100],
                "next_attempt_at": now,
                "created_at": now,
            },
        )
        if created and send_after_commit:
            pk, at = mail.pk, max(now, timezone.now())  # a caller's clock may run ahead (jobs, tests)
            transaction.on_commit(lambda: send_after(pk, at))
    return mail, created


def send_after(pk: int, now: datetime | None = None) -> None:
    """After commit: try the new row at once; a failure stays in the outbox for the job."""
    try:
        send_due(ids=[pk], now=max(now or timezone.now(), timezone.now()))
    except Exception:  # noqa: BLE001 - the business change is committed; the job retries
        log.exception("outbox mail %s: send after commit failed", pk)


def retry(
    *,
    actor: Any,
    ids: Iterable[int] | None = None,
    purpose: str | None = None,
    queryset: QuerySet[OutboxMail] | None = None,
    now: datetime | None = None,
) -> int:
    """Put failed (or retrying, or cancelled) mails back to pending now; one audit event per row.

    ``actor`` is the user doing it (None for a command run by the system). The caller checks
    the right to do it. Returns rows put back.
    """
    now = now or timezone.now()
    qs = queryset if queryset is not None else OutboxMail.objects.all()
    qs = qs.filter(status__in=RETRYABLE)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    if purpose is not None:
        qs = qs.filter(purpose=purpose)
    done = 0
    with transaction.atomic():
        for mail in qs.select_for_update().order_by("pk"):
            before = mail.status
            n = OutboxMail.objects.filter(pk=mail.pk, status__in=RETRYABLE).update(
                status=OutboxStatus.PENDING, next_attempt_at=now, attempts=0, claimed_at=None
            )
            if not n:
                continue
            done += 1
            mail.status = OutboxStatus.PENDING
            audit.record(
                actor=actor,
                verb="outbox.retry",
                target=mail,
                data={"purpose": mail.purpose, "key": mail.key, "from": before},
            )
            _notify(mail)
    return done


# -- sending ---------------------------------------------------------------------------


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0  # attempts that failed (retried later, or given up)
    gave_up: int = 0  # of which the last attempt: the row is now ``failed``
    cancelled: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "skipped": self.skipped,
        }


def _due_q(now: datetime) -> Q:
    return Q(status__in=DUE, next_attempt_at__lte=now) | Q(
        status=OutboxStatus.SENDING, claimed_at__lt=now - STALE_CLAIM
    )


def _claim(pk: int, now: datetime) -> bool:
    return (
        OutboxMail.objects.filter(_due_q(now), pk=pk).update(status=OutboxStatus.SENDING, claimed_at=now) == 1
    )


def _notify(mail: OutboxMail) -> None:
    p = _PURPOSES.get(mail.purpose)
    if p is not None and p.on_status is not None:
        p.on_status(mail)


def _finish(mail: OutboxMail, status: str, now: datetime, *, error: str = "") -> None:
    with transaction.atomic():
        sent = status == OutboxStatus.SENT
        mail.status = status
        mail.sent_at = now if sent else None
        mail.last_error = error[:1000]
        mail.claimed_at = None
        mail.attempts += 1 if sent else 0
        OutboxMail.objects.filter(pk=mail.pk).update(
            status=status,
            sent_at=mail.sent_at,
            last_error=mail.last_error,
            claimed_at=None,
            attempts=mail.attempts,
            to=mail.to,
            subject=mail.subject,
        )
        _notify(mail)


def _fail(mail: OutboxMail, now: datetime, exc: Exception, max_attempts: int) -> str:
    attempts = mail.attempts + 1
    status = OutboxStatus.FAILED if attempts >= max_attempts else OutboxStatus.RETRYING
    with transaction.atomic():
        mail.status, mail.attempts = status, attempts
        mail.next_attempt_at = now + backoff(attempts)
        mail.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        mail.claimed_at = None
        OutboxMail.objects.filter(pk=mail.pk).update(
            status=status,
            attempts=attempts,
            next_attempt_at=mail.next_attempt_at,
            last_error=mail.last_error,
            claimed_at=None,
        )
        if status == OutboxStatus.FAILED:
            audit.record(
                actor=None,
                verb="outbox.failed",
                target=mail,
                data={
                    "purpose": mail.purpose,
                    "key": mail.key,
                    "attempts": attempts,
                    "error": type(exc).__name__,
                },
            )
        _notify(mail)
    return status


def send_due(
    *,
    now: datetime | None = None,
    limit: int = 200,
    purpose: str | None = None,
    ref: str | None = None,
    ids: Iterable[int] | None = None,
) -> SendResult:
    """Send what is due (optionally one purpose's, one object's or these rows). Safe from several workers."""
    _discover()
    now = now or timezone.now()
    qs = OutboxMail.objects.filter(_due_q(now))
    if purpose is not None:
        qs = qs.filter(purpose=purpose)
    if ref is not None:
        qs = qs.filter(ref=ref)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    result = SendResult()
    cache: dict[Any, Any] = {}
    connection = None
    try:
        for pk in list(qs.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]):
            if not _claim(pk, now):
                result.skipped += 1
                continue
            mail = OutboxMail.objects.get(pk=pk)
            p = _PURPOSES.get(mail.purpose) or Purpose(mail.purpose, mail.purpose)
            try:
                if p.render is not None:
                    message = p.render(mail, cache)
                    mail.to, mail.subject = message.to, message.subject[:200]
                else:
                    message = Message(mail.subject, mail.body, list(mail.to))
                if not message.to:
                    raise Cancel("没有收件人 / no recipient")
                if connection is None:
                    connection = get_connection()
                email = EmailMessage(
                    subject=message.subject,
                    body=message.body,
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    to=message.to,
                    connection=connection,
                )
                for name, content, mimetype in message.attachments:
                    email.attach(name, content, mimetype)
                email.send(fail_silently=False)
            except Cancel as exc:
                _finish(mail, OutboxStatus.CANCELLED, now, error=str(exc))
                result.cancelled += 1
                continue
            except Exception as exc:  # noqa: BLE001 - any SMTP or build failure is retried and shown
                log.warning("outbox mail %s (%s) failed: %s", mail.pk, mail.purpose, exc)
                connection = None
                status = _fail(mail, now, exc, p.max_attempts)
                result.failed += 1
                result.gave_up += status == OutboxStatus.FAILED
                result.errors.append(f"{mail.email}: {exc}")
                continue
            _finish(mail, OutboxStatus.SENT, now)
            result.sent += 1
    finally:
        if connection is not None:
            with contextlib.suppress(Exception):  # closing a broken connection is not news
                connection.close()
    return result


def counts() -> dict[str, int]:
    """Rows per status (for metrics and the readiness advisory)."""
    from django.db.models import Count

    return {row["status"]: row["n"] for row in OutboxMail.objects.values("status").annotate(n=Count("id"))}
