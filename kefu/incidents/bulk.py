"""When the incident ends: every linked open order gets its own reply and resolution.

Who acts. The tickets services let only a member of the team holding an order
resolve it. The bulk run therefore acts as a real system account,
``incident_bulk`` (平台突发事件(系统)): a persisted user that cannot sign in
(inactive, no usable password, no token) and holds a real agent membership in
each team whose orders it resolved, granted the first time it needs one (an
``incident.system_seat_granted`` event per grant, naming the manager who
triggered it). Every order's reply, ``ticket.resolved`` event and clock stop
therefore name that account and the holding team, as the tickets services
write them; the incident's ``incident.bulk_resolved`` event and each link's
``bulk_by`` name the manager who pressed the button. No seat is made up.

How. Orders go in chunks (``CHUNK``): one transaction per chunk that locks
the chunk's links, reads the chunk's orders in one query, and resolves each
order through ``kefu.tickets.services.ticket_resolve``, whose own atomic
block is a savepoint inside the chunk's transaction: one order failing (still awaiting the hotline's acceptance, say)
rolls back only that order and is listed with its reason, the others commit
with the chunk. The clock outcomes and the link rows are then read and
written once per chunk. A crash mid-chunk rolls the whole chunk back,
outcomes included, so the next run picks it up again: nothing half-done. The
link row remembers the outcome, so a second run skips what is done; with
nothing left it is a 409.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from kefu.core import audit
from kefu.core.errors import Conflict, DomainError
from kefu.incidents.codes import IncidentCode
from kefu.org.access import Actor, Seat
from kefu.org.models import Membership, Role, Team, User
from kefu.sla.models import Clock
from kefu.tickets import services as tickets
from kefu.tickets.models import OPEN_STATUS_VALUES, ReplyMethod, Ticket

from . import services, workflow
from .models import BulkOutcome, Incident, Link, Update

_WHY = "bulk resolution of an incident's linked orders (every province, by the incident manager)"
CHUNK = 100
INLINE_LIMIT = 200  # more linked orders than this run in the background (bulk_request)
SYSTEM_USERNAME = "incident_bulk"
SYSTEM_NAME = "平台突发事件(系统)"


@dataclass
class BulkReport:
    done: int = 0
    already: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.done + self.already + len(self.failed)


def system_user() -> User:
    """The persisted account the bulk run acts as. Inactive: it can never sign in or hold a token."""
    user, created = User.objects.get_or_create(
        username=SYSTEM_USERNAME, defaults={"display_name": SYSTEM_NAME, "is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


class SystemSeats:
    """The system account's real memberships, one per holding team, granted on first need and cached per run."""

    def __init__(self, *, manager: Actor, incident: Incident) -> None:
        self.user = system_user()
        self.manager = manager
        self.incident = incident
        self._actors: dict[int, Actor] = {}

    def has(self, team_id: int) -> bool:
        return team_id in self._actors

    def forget(self, team_id: int) -> None:
        """The grant was rolled back with the order that needed it."""
        self._actors.pop(team_id, None)

    def actor_for(self, team_id: int) -> Actor:
        actor = self._actors.get(team_id)
        if actor is None:
            actor = self._actors[team_id] = self._grant(team_id)
        return actor

    def _grant(self, team_id: int) -> Actor:
        team = Team.objects.select_related("unit", "province").get(pk=team_id)
        m, created = Membership.objects.get_or_create(
            user=self.user, team=team, role=Role.AGENT, defaults={"is_active": True}
        )
        if created or not m.is_active:
            if not m.is_active:
                m.is_active = True
                m.save(update_fields=["is_active"])
            audit.record(
                actor=self.manager.user if self.manager.user.pk else None,
                verb="incident.system_seat_granted",
                target=self.incident,
                data={"number": self.incident.number, "team": team.code, "user": SYSTEM_USERNAME},
                province_code=team.province.code if team.province else "",
                unit_code=self.manager.unit_code,
            )
        seat = Seat(
            team_id=team.pk,
            team_code=team.code,
            team_kind=team.kind,
            team_name=team.name,
            unit_code=team.unit.code,
            province_id=team.province_id,
            province_code=team.province.code if team.province else "",
            role=m.role,
        )
        return Actor(user=self.user, seats=(seat,))


def _clock_outcomes(ticket_ids: list[int]) -> dict[int, str]:
    """The latest resolve clock's outcome (or status while running) per order, in one query."""
    out: dict[int, str] = {}
    rows = (
        Clock.objects.unscoped(_WHY)
        .filter(owner_type=tickets.TICKET, owner_id__in=ticket_ids, kind="resolve")
        .order_by("owner_id", "pk")
        .values_list("owner_id", "status", "outcome")
    )
    for owner_id, status, outcome in rows:
        out[owner_id] = outcome or status  # ordered by pk: the last one wins
    return out


def _one(seats: SystemSeats, inc: Incident, ticket: Ticket, method: str, now: datetime) -> tuple[str, str]:
    if ticket.status not in OPEN_STATUS_VALUES:
        return BulkOutcome.ALREADY, ""
    # Inside the chunk's transaction, ticket_resolve's own atomic block is a savepoint: a refused order
    # rolls back alone and leaves nothing of itself (what the norms check records before it stays, as
    # tickets wants for quality inspection). The first order of a team not yet joined gets one more
    # savepoint, so that a refused first order does not leave the membership granted for it.
    first = not seats.has(ticket.holder_team_id)
    try:
        with transaction.atomic() if first else nullcontext():
            tickets.ticket_resolve(
                actor=seats.actor_for(ticket.holder_team_id),
                ticket=ticket,
                now=now,
                resolution=f"平台突发事件 {inc.number} 已恢复：{inc.resolution_text}",
                reply_method=method,
                reply_content=inc.resolution_text,
            )
    except DomainError as exc:
        if first:
            seats.forget(ticket.holder_team_id)
        return BulkOutcome.FAILED, exc.message
    return BulkOutcome.DONE, ""


def _chunk(
    seats: SystemSeats, inc: Incident, link_ids: list[int], method: str, now: datetime, report: BulkReport
) -> None:
    with transaction.atomic():
        links = list(
            Link.objects.unscoped(_WHY)
            .select_for_update()
            .filter(
                pk__in=link_ids, bulk_outcome__in=["", BulkOutcome.FAILED]
            )  # another run may have been here
            .order_by("pk")
        )
        orders = {
            t.pk: t
            for t in Ticket.objects.unscoped(_WHY)
            .filter(pk__in=[link.ticket_id for link in links])
            .select_related("province")
        }
        for link in links:
            outcome, error = _one(seats, inc, orders[link.ticket_id], method, now)
            link.bulk_outcome, link.bulk_error, link.bulk_at = outcome, error, now
            link.bulk_by = seats.manager.user if seats.manager.user.pk else None
            if outcome == BulkOutcome.DONE:
                report.done += 1
            elif outcome == BulkOutcome.ALREADY:
                report.already += 1
            else:
                report.failed.append({"ticket": str(link.ticket_id), "error": error})
        outcomes = _clock_outcomes([link.ticket_id for link in links])
        for link in links:
            link.sla_outcome = outcomes.get(link.ticket_id, "")
        Link.objects.unscoped(_WHY).bulk_update(
            links, ["bulk_outcome", "bulk_error", "bulk_at", "bulk_by", "sla_outcome"]
        )


def _todo(actor: Actor, incident: Incident) -> tuple[Seat, Incident, list[int]]:
    """The checks of a run (manager's seat, incident resolved, something left), under the incident's lock."""
    seat = services.managing_seat(actor)
    with transaction.atomic():
        inc = services._lock(incident)
        if inc.status not in (workflow.RESOLVED, workflow.REVIEWED):
            raise Conflict(
                "事件恢复(状态为已恢复)后才能批量答复办结关联工单。",
                "Bulk reply and resolution runs once the incident is resolved.",
                code=IncidentCode.INCIDENT_OPEN,
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
                code=IncidentCode.BULK_DONE,
            )
    return seat, inc, todo


def bulk_request(
    *, actor: Actor, incident: Incident, method: str = ReplyMethod.SMS, now: datetime | None = None
) -> BulkReport | int:
    """What the page and the API call: up to ``INLINE_LIMIT`` orders at once (the report), more in the
    background (the number handed over), so that a national incident's thousands of orders never hold a
    request past the proxy's timeout. The checks and their 409s are the same either way."""
    seat, inc, todo = _todo(actor, incident)
    if len(todo) <= INLINE_LIMIT:
        return bulk_resolve(actor=actor, incident=inc, method=method, now=now)
    from . import tasks  # tasks imports this module

    with transaction.atomic():
        inc = services._lock(inc)
        services._timeline(
            inc,
            Update.Kind.BULK,
            now or timezone.now(),
            actor,
            body=f"后台批量答复办结已开始：{len(todo)} 张",
        )
        services._audit(actor, "incident.bulk_started", inc, unit_code=seat.unit_code, orders=len(todo))
        user_id, inc_id = actor.user.pk, inc.pk
        transaction.on_commit(lambda: tasks.incident_bulk_resolve(inc_id, user_id, method))
    return len(todo)


def bulk_resolve(
    *, actor: Actor, incident: Incident, method: str = ReplyMethod.SMS, now: datetime | None = None
) -> BulkReport:
    now = now or timezone.now()
    if method not in ReplyMethod.values:
        method = ReplyMethod.SMS
    seat, inc, todo = _todo(actor, incident)
    report = BulkReport()
    seats = SystemSeats(manager=actor, incident=inc)
    for start in range(0, len(todo), CHUNK):
        _chunk(seats, inc, todo[start : start + CHUNK], method, now, report)
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
            acting_as=SYSTEM_USERNAME,
        )
    return report
