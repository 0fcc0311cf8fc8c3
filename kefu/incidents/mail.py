"""The incident's mails, through the one outbox (``kefu.core.outbox``).

Rows are written in the service's transaction, sent after commit, retried by the
``core.outbox`` job with back-off and shown on the incident page (``for_incident``).
``(purpose, key)`` makes each mail once: the HQ report once per incident and
address, a reminder once per receipt and reminder number.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core import outbox
from kefu.core.links import absolute_url
from kefu.core.models import OutboxMail, OutboxStatus

from .models import Incident, Receipt

log = logging.getLogger(__name__)
HQ_REPORT = "incidents.hq_report"
REMINDER = "incidents.reminder"


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
    lines += [
        "",
        f"请登录新视通客服平台查看事件并下发通报：{_link(incident)}",
        "本邮件由系统自动发送。",
    ]
    return "\n".join(lines)


def _link(incident: Incident) -> str:
    return absolute_url(reverse("incidents:detail", args=[incident.number]))


def ref(incident_id: int) -> str:
    return f"incident:{incident_id}"


def _on_status(mail: OutboxMail) -> None:
    """The first HQ report that leaves stamps the incident (第九条(二): reported to HQ)."""
    if mail.purpose == HQ_REPORT and mail.status == OutboxStatus.SENT and mail.sent_at is not None:
        incident_id = int(mail.data.get("incident_id", 0))
        Incident.objects.filter(pk=incident_id, hq_mail_sent_at=None).update(hq_mail_sent_at=mail.sent_at)


outbox.register(HQ_REPORT, _("事件报告(集团客服部)"), on_status=_on_status)
outbox.register(REMINDER, _("通报确认提醒"))


def enqueue_hq_report(incident: Incident, recipients: list[str], *, now: datetime) -> int:
    subject = f"【新视通平台故障报告】{incident.get_impact_display()[:2]} {incident.number} {incident.title}"[
        :200
    ]
    body = report_body(incident)
    for e in recipients:
        outbox.enqueue(
            purpose=HQ_REPORT,
            key=f"{incident.pk}:{e}",
            to=[e],
            subject=subject,
            body=body,
            data={"incident_id": incident.pk},
            ref=ref(incident.pk),
            now=now,
            send_after_commit=False,  # the service sends the incident's mails after commit (send_for_incident)
        )
    return len(recipients)


def enqueue_reminder(receipt: Receipt, *, now: datetime) -> None:
    b = receipt.bulletin
    inc = b.incident
    outbox.enqueue(
        purpose=REMINDER,
        key=f"{receipt.pk}:{receipt.reminder_count}",
        to=[receipt.team.email],
        subject=f"【请确认】平台故障通报 {inc.number} 第{b.version}版 尚未确认"[:200],
        body=(
            f"{receipt.team.name}：\n\n集团客服部于 {_local(b.issued_at)} 下发的故障通报"
            f"《{inc.title}》(第{b.version}版)贵团队尚未确认收到，请登录平台阅读客户口径与处理指引并确认。\n\n"
            f"客户口径：{b.customer_script}\n\n"
            f"阅读并确认：{_link(inc)}\n"
        ),
        data={"incident_id": inc.pk},
        ref=ref(inc.pk),
        now=now,
        send_after_commit=False,
    )


def for_incident(incident: Incident, limit: int = 20) -> list[OutboxMail]:
    """The incident's mails, newest first (for its page)."""
    return list(OutboxMail.objects.filter(ref=ref(incident.pk)).order_by("-created_at", "-pk")[:limit])


def send_due(*, now: datetime | None = None, incident_id: int | None = None, limit: int = 200) -> int:
    """Send what is due (the incidents' mails, or one incident's). Returns mails sent."""
    if incident_id is not None:
        return outbox.send_due(now=now, ref=ref(incident_id), limit=limit).sent
    sent = 0
    for purpose in (HQ_REPORT, REMINDER):
        sent += outbox.send_due(now=now, purpose=purpose, limit=limit).sent
    return sent


def send_for_incident(incident_id: int, now: datetime | None = None) -> None:
    """After commit: send the incident's new mails at once (a failure stays in the outbox for the job)."""
    try:
        send_due(incident_id=incident_id, now=max(now or timezone.now(), timezone.now()))
    except Exception:  # noqa: BLE001 - the declaration is committed; the job retries the outbox
        log.exception("incident %s mail send failed", incident_id)
