"""The incident outbox: rows written in the service's transaction, sent after commit, retried by a job.

Sending claims a row with one UPDATE (pending/retrying -> sending), so two
workers never send the same mail; a failure is retried with back-off and shown
on the incident page.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.utils import timezone

from .models import Incident, Mail, MailStatus, Receipt

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6


def _local(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def report_body(incident: Incident) -> str:
    annex = incident.annex or {}
    provinces = (
        "全国"
        if incident.all_provinces
        else "、".join(p.name for p in incident.provinces.order_by("report_order"))
    )
    lines = [
        "集团客户服务部：",
        "",
        f"新视通(4G版)平台发生故障并影响客户，现报告如下(第九条(二))。事件编号 {incident.number}。",
        "",
        f"标题：{incident.title}",
        f"影响级别：{incident.get_impact_display()}",
        f"受影响业务/功能：{incident.services}",
        f"受影响省份：{provinces}",
        f"故障开始：{_local(incident.started_at)}　发现：{_local(incident.detected_at)}　宣告：{_local(incident.declared_at)}",
        f"预计恢复：{_local(incident.expected_recovery_at)}",
        f"故障现象：{incident.symptoms}",
        f"处理措施：{incident.measures or '—'}",
        f"临时解决办法：{incident.workaround or '—'}",
        "",
        "附：截至报告时的相关投诉、故障申告与咨询(按省份)",
        "省份\t投诉\t故障申告\t咨询\t合计",
    ]
    for r in annex.get("rows", []):
        lines.append(f"{r['province']}\t{r['complaint']}\t{r['fault']}\t{r['consultation']}\t{r['total']}")
    t = annex.get("totals", {})
    lines.append(
        f"合计\t{t.get('complaint', 0)}\t{t.get('fault', 0)}\t{t.get('consultation', 0)}\t{t.get('total', 0)}"
    )
    lines += ["", "请登录新视通客服平台查看事件并下发通报。本邮件由系统自动发送。"]
    return "\n".join(lines)


def enqueue_hq_report(incident: Incident, recipients: list[str], *, now: datetime) -> int:
    subject = f"【新视通平台故障报告】{incident.get_impact_display()[:2]} {incident.number} {incident.title}"[
        :200
    ]
    body = report_body(incident)
    Mail.objects.bulk_create(
        [
            Mail(
                incident=incident,
                purpose=Mail.Purpose.HQ_REPORT,
                email=e,
                subject=subject,
                body=body,
                next_attempt_at=now,
                created_at=now,
            )
            for e in recipients
        ]
    )
    return len(recipients)


def enqueue_reminder(receipt: Receipt, *, now: datetime) -> None:
    b = receipt.bulletin
    inc = b.incident
    Mail.objects.create(
        incident=inc,
        purpose=Mail.Purpose.REMINDER,
        email=receipt.team.email,
        next_attempt_at=now,
        created_at=now,
        subject=f"【请确认】平台故障通报 {inc.number} 第{b.version}版 尚未确认"[:200],
        body=(
            f"{receipt.team.name}：\n\n集团客服部于 {_local(b.issued_at)} 下发的故障通报"
            f"《{inc.title}》(第{b.version}版)贵团队尚未确认收到，请登录平台阅读客户口径与处理指引并确认。\n\n"
            f"客户口径：{b.customer_script}\n"
        ),
    )


def _claim(mail_id: int, now: datetime) -> bool:
    """Take the row for this worker: push its next attempt away in one UPDATE that only one worker wins."""
    return (
        Mail.objects.filter(
            pk=mail_id,
            status__in=[MailStatus.PENDING, MailStatus.RETRYING],
            next_attempt_at__lte=now,
        ).update(next_attempt_at=now + timedelta(minutes=10))
        == 1
    )


def _send(mail: Mail, now: datetime) -> bool:
    try:
        EmailMessage(
            subject=mail.subject, body=mail.body, from_email=settings.DEFAULT_FROM_EMAIL, to=[mail.email]
        ).send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - any SMTP trouble is retried and shown
        log.warning("incident mail %s failed: %s", mail.pk, exc)
        attempts = mail.attempts + 1
        Mail.objects.filter(pk=mail.pk).update(
            status=MailStatus.FAILED if attempts >= MAX_ATTEMPTS else MailStatus.RETRYING,
            attempts=attempts,
            next_attempt_at=now + timedelta(minutes=2**attempts),
            last_error=f"{type(exc).__name__}: {exc}"[:1000],
        )
        return False
    Mail.objects.filter(pk=mail.pk).update(
        status=MailStatus.SENT, sent_at=now, attempts=mail.attempts + 1, last_error=""
    )
    if mail.purpose == Mail.Purpose.HQ_REPORT:
        Incident.objects.filter(pk=mail.incident_id, hq_mail_sent_at=None).update(hq_mail_sent_at=now)
    return True


def send_due(*, now: datetime | None = None, incident_id: int | None = None, limit: int = 200) -> int:
    """Send what is due (all, or one incident's). Returns mails sent."""
    now = now or timezone.now()
    qs = Mail.objects.filter(
        Q(status__in=[MailStatus.PENDING, MailStatus.RETRYING]), next_attempt_at__lte=now
    )
    if incident_id is not None:
        qs = qs.filter(incident_id=incident_id)
    sent = 0
    for mail in list(qs.order_by("next_attempt_at", "pk")[:limit]):
        if not _claim(mail.pk, now):
            continue
        sent += _send(mail, now)
    return sent


def send_for_incident(incident_id: int, now: datetime | None = None) -> None:
    """After commit: send the incident's new mails at once (a failure stays in the outbox for the job)."""
    try:
        send_due(incident_id=incident_id, now=max(now or timezone.now(), timezone.now()))
    except Exception:  # noqa: BLE001 - the declaration is committed; the job retries the outbox
        log.exception("incident %s mail send failed", incident_id)
