"""When the incident ends: every linked open order gets its own reply and resolution.

Each order goes through ``kefu.tickets.services.ticket_resolve`` in its own
transaction, so it gets its own reply row, its own audit event and its resolve
clock's outcome exactly as if its holder had done it; one order failing (an
order still awaiting acceptance at the hotline, say) leaves the others done
and is listed with its reason. The link row remembers the outcome, so a second
run skips what is done: run twice, nothing changes (the second run is a 409).

The incident manager is not a member of the 31 desks; the reply is written
for the order's holding team by the manager's user (``delegate``), which the
audit event names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from kefu.core.errors import Conflict, DomainError
from kefu.org.access import Actor, Seat
from kefu.org.models import Role
from kefu.sla.models import Clock
from kefu.tickets import services as tickets
from kefu.tickets.models import OPEN_STATUS_VALUES, ReplyMethod, Ticket

from . import services, workflow
from .models import BulkOutcome, Incident, Link, Update

_WHY = "bulk resolution of an incident's linked orders (every province, by the incident manager)"


@dataclass
class BulkReport:
    done: int = 0
    already: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.done + self.already + len(self.failed)


def delegate(actor: Actor, ticket: Ticket) -> Actor:
    """The manager's user acting for the team holding the order, for this one reply and resolution."""
    team = ticket.holder_team
    seat = Seat(
        team_id=team.pk,
        team_code=team.code,
        team_kind=team.kind,
        team_name=team.name,
        unit_code=team.unit.code,
        province_id=team.province_id,
        province_code=team.province.code if team.province else "",
        role=Role.AGENT,
    )
    return Actor(user=actor.user, seats=(seat,))


def _clock_outcome(ticket_id: int) -> str:
    clock = (
        Clock.objects.unscoped(_WHY)
        .filter(owner_type=tickets.TICKET, owner_id=ticket_id, kind="resolve")
        .order_by("-pk")
        .values_list("status", "outcome")
        .first()
    )
    if clock is None:
        return ""
    return clock[1] or clock[0]


def _one(actor: Actor, inc: Incident, link: Link, method: str, now: datetime) -> tuple[str, str]:
    ticket = (
        Ticket.objects.unscoped(_WHY)
        .select_related("holder_team__unit", "holder_team__province", "province")
        .get(pk=link.ticket_id)
    )
    if ticket.status not in OPEN_STATUS_VALUES:
        return BulkOutcome.ALREADY, ""
    try:
        tickets.ticket_resolve(
            actor=delegate(actor, ticket),
            ticket=ticket,
            now=now,
            resolution=f"平台突发事件 {inc.number} 已恢复：{inc.resolution_text}",
            reply_method=method,
            reply_content=inc.resolution_text,
        )
    except DomainError as exc:
        return BulkOutcome.FAILED, exc.message
    return BulkOutcome.DONE, ""


def bulk_resolve(
    *, actor: Actor, incident: Incident, method: str = ReplyMethod.SMS, now: datetime | None = None
) -> BulkReport:
    now = now or timezone.now()
    seat = services.managing_seat(actor)
    if method not in ReplyMethod.values:
        method = ReplyMethod.SMS
    with transaction.atomic():
        inc = services._lock(incident)
        if inc.status not in (workflow.RESOLVED, workflow.REVIEWED):
            raise Conflict(
                "事件恢复(状态为已恢复)后才能批量答复办结关联工单。",
                "Bulk reply and resolution runs once the incident is resolved.",
                code="incident_open",
                details={"status": inc.status},
            )
        todo = list(
            Link.objects.unscoped(_WHY)
            .filter(incident=inc, bulk_outcome__in=["", BulkOutcome.FAILED])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not todo:
            raise Conflict(
                "关联工单均已处理，无需重复执行。",
                "Every linked order was already handled; nothing to do.",
                code="bulk_done",
            )
    report = BulkReport()
    for link_id in todo:
        with transaction.atomic():
            link = Link.objects.unscoped(_WHY).select_for_update().get(pk=link_id)
            if link.bulk_outcome in (BulkOutcome.DONE, BulkOutcome.ALREADY):
                continue  # another run got here first
            outcome, error = _one(actor, inc, link, method, now)
            link.bulk_outcome, link.bulk_error, link.bulk_at = outcome, error, now
            link.sla_outcome = _clock_outcome(link.ticket_id)
            link.save(update_fields=["bulk_outcome", "bulk_error", "bulk_at", "sla_outcome"])
        if outcome == BulkOutcome.DONE:
            report.done += 1
        elif outcome == BulkOutcome.ALREADY:
            report.already += 1
        else:
            report.failed.append({"ticket": str(link.ticket_id), "error": error})
    with transaction.atomic():
        inc = services._lock(inc)
        body = f"答复办结 {report.done} 张，此前已办结 {report.already} 张，失败 {len(report.failed)} 张"
        services._timeline(inc, Update.Kind.BULK, now, actor, body=body)
        services._audit(
            actor,
            "incident.bulk_resolved",
            inc,
            unit_code=seat.unit_code,
            done=report.done,
            already=report.already,
            failed=len(report.failed),
        )
    return report
