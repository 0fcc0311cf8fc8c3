"""The only writers of clocks: start, stop, pause, resume, follow a status.

Tickets calls these from its own services, inside its transaction, with an
explicit ``now``. Every function locks the clock row it changes and writes one
audit event. None of them fails when there is nothing to do (no policy for this
kind of clock, a clock already stopped): the caller's transition must not
depend on whether a time limit applies.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from kefu.core import audit, rows
from kefu.org.models import Province, Team

from . import registry  # noqa: F401  (re-exported: ``sla.registry.on_expired``)
from .calendar_math import CalendarSpec, deadlines, seconds_between
from .calendars import SpecCache
from .models import Clock, Holiday, Policy, ServiceCalendar, ServiceHours
from .selectors import ClockInfo, clocks_for  # noqa: F401  (re-exported for the contract)

_WHY = "a service acting on the owner its caller already holds"


def policy_for(*, kind: str, ticket_kind: str, team_kind: str) -> Policy | None:
    """The most specific active policy: exact ticket kind and team type beat "any"."""
    candidates = Policy.objects.filter(
        is_active=True, target=kind, ticket_kind__in=[ticket_kind, ""], team_kind__in=[team_kind, ""]
    ).select_related("calendar")
    best = sorted(candidates, key=lambda p: (p.ticket_kind == "", p.team_kind == ""))
    return best[0] if best else None


# clock_start runs on every order creation; the policy and its calendar change only in the admin.
# Each process keeps what it read for LOOKUP_SECONDS: saving or deleting a policy, calendar, its
# hours or a holiday clears this process's copies at once (signals below); other processes see the
# change within LOOKUP_SECONDS (and bulk .update() calls, which send no signal, within that too).
LOOKUP_SECONDS = 5.0
_lookups: dict[tuple[Any, ...], tuple[float, Any]] = {}


def _looked_up(key: tuple[Any, ...], load: Callable[[], Any]) -> Any:
    hit = _lookups.get(key)
    at = time.monotonic()
    if hit is not None and at - hit[0] < LOOKUP_SECONDS:
        return hit[1]
    value = load()
    _lookups[key] = (at, value)
    return value


def lookups_clear(**_: Any) -> None:
    """Forget cached policies and calendar specs (on any change to them; tests call it between tests)."""
    _lookups.clear()


class CachedSpecs(SpecCache):
    """``SpecCache`` reading through this process's lookups: a calendar's spec is read from the
    database at most once every LOOKUP_SECONDS, and again at once after any change to calendars,
    their hours or holidays (for the busiest readers: every live call event)."""

    def get(self, calendar_id: int) -> CalendarSpec:
        spec: CalendarSpec = _looked_up(("spec", calendar_id), lambda: SpecCache().get(calendar_id))
        return spec


def calendar_spec(calendar_id: int) -> CalendarSpec:
    return CachedSpecs().get(calendar_id)


for _model in (Policy, ServiceCalendar, ServiceHours, Holiday):
    post_save.connect(lookups_clear, sender=_model, dispatch_uid=f"sla.lookups.save.{_model.__name__}")
    post_delete.connect(lookups_clear, sender=_model, dispatch_uid=f"sla.lookups.delete.{_model.__name__}")


def _user(actor: Any) -> Any:
    return getattr(actor, "user", actor)


def _record(clock: Clock, verb: str, actor: Any, **data: Any) -> None:
    audit.record(
        actor=_user(actor),
        verb=verb,
        target=clock,
        data={
            "owner_type": clock.owner_type,
            "owner_id": clock.owner_id,
            "kind": clock.kind,
            "team": clock.team_id,
            **data,
        },
        province_code=clock.province.code if clock.province_id and clock.province else "",
    )


def _schedule(clock: Clock) -> None:
    """Set ``next_check_at`` to the earliest outcome still owed to a running clock."""
    pending = []
    if clock.status == Clock.Status.RUNNING:
        if clock.warn_at is not None and clock.warned_at is None:
            pending.append(clock.warn_at)
        if clock.due_at is not None and clock.breached_at is None:
            pending.append(clock.due_at)
    clock.next_check_at = min(pending) if pending else None


def _locked(owner_type: str, owner_id: int, kind: str) -> Clock | None:
    return (
        Clock.objects.unscoped(_WHY)
        .select_for_update(of=("self",))
        .select_related("province")
        .filter(owner_type=owner_type, owner_id=owner_id, kind=kind)
        .first()
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@transaction.atomic
def clock_start(
    *,
    owner_type: str,
    owner_id: int,
    kind: str,
    ticket_kind: str,
    team: Team,
    province: Province | None,
    now: datetime,
    actor: Any = None,
) -> Clock | None:
    """Start the clock of ``kind`` for an owner, charged to ``team``. None when no policy applies.

    Starting a clock that exists already returns it unchanged (idempotent).
    """
    existing = _locked(owner_type, owner_id, kind)
    if existing is not None:
        return existing
    clock = clock_prepare(
        owner_type=owner_type, kind=kind, ticket_kind=ticket_kind, team=team, province=province, now=now
    )
    if clock is None:
        return None
    clock.owner_id = owner_id
    clock.save()
    _record(clock, "sla.clock.started", actor, **clock_started_data(clock))
    return clock


def clock_prepare(
    *,
    owner_type: str,
    kind: str,
    ticket_kind: str,
    team: Team,
    province: Province | None,
    now: datetime,
) -> Clock | None:
    """The clock an owner being created would get, unsaved (no query: policy and calendar are cached).

    For an owner created in the caller's transaction (a new work order): the caller learns the due
    time before it writes the owner, writes the owner once, then calls ``clock_insert``.
    """
    policy = _looked_up(
        ("policy", kind, ticket_kind, team.kind),
        lambda: policy_for(kind=kind, ticket_kind=ticket_kind, team_kind=team.kind),
    )
    if policy is None:
        return None
    spec = calendar_spec(policy.calendar_id)
    budget = policy.duration_minutes * 60
    d = deadlines(
        spec,
        now=now,
        remaining_seconds=budget,
        budget_seconds=budget,
        warn_ratio=float(policy.warn_ratio),
        service_hours=policy.service_hours,
    )
    clock = rows.new(
        Clock,
        owner_type=owner_type,
        owner_id=0,
        kind=kind,
        ticket_kind=ticket_kind,
        team=team,
        province=province,
        policy=policy,
        service_hours=policy.service_hours,
        calendar_id=policy.calendar_id,
        budget_seconds=budget,
        warn_ratio=policy.warn_ratio,
        started_at=now,
        due_at=d.due_at,
        warn_at=d.warn_at,
    )
    _schedule(clock)
    return clock


def clock_insert(clock: Clock, *, owner_id: int) -> Clock:
    """Write a ``clock_prepare``-d clock for its owner, just created in the same transaction: one INSERT.

    No lock and no read (a new owner has no clock; the one-per-owner-and-kind constraint would refuse a
    second), and no event of its own: the owner's creation event carries ``clock_started_data(clock)``,
    so a create writes one audit row.
    """
    clock.owner_id = owner_id
    clock.save(force_insert=True)
    return clock


def clock_started_data(clock: Clock) -> dict[str, Any]:
    """What the start of a clock records (on its own event, or inside its owner's creation event)."""
    assert clock.policy is not None
    return {"policy": clock.policy.code, "due_at": _iso(clock.due_at)}


def _remaining(clock: Clock, now: datetime, spec_cache: SpecCache) -> int:
    if clock.status == Clock.Status.RUNNING:
        assert clock.due_at is not None
        spec = spec_cache.get(clock.calendar_id)
        return seconds_between(spec, now, clock.due_at, service_hours=clock.service_hours)
    return clock.remaining_seconds or 0


@transaction.atomic
def clock_stop(
    *,
    owner_type: str,
    owner_id: int,
    kind: str,
    now: datetime,
    handed_over: bool = False,
    actor: Any = None,
) -> Clock | None:
    """Stop a clock and decide met or late.

    ``handed_over=True`` is for a hop that ends without a resolution (returned,
    transferred): it does not count in the on-time rate unless it was already
    late, because a breach stays charged to the team that let it happen.
    """
    clock = _locked(owner_type, owner_id, kind)
    if clock is None or clock.status == Clock.Status.STOPPED:
        return clock
    remaining = _remaining(clock, now, SpecCache())
    if clock.breached_at is not None:
        late = True
    elif clock.status == Clock.Status.RUNNING:
        late = clock.due_at is not None and now > clock.due_at
    else:
        late = remaining < 0
    if late:
        clock.outcome = Clock.Outcome.LATE
    else:
        clock.outcome = Clock.Outcome.HANDED_OVER if handed_over else Clock.Outcome.MET
    clock.status = Clock.Status.STOPPED
    clock.remaining_seconds = remaining
    clock.stopped_at = now
    clock.warn_at = None
    _schedule(clock)
    clock.save()
    _record(clock, "sla.clock.stopped", actor, outcome=clock.outcome, remaining_seconds=remaining)
    return clock


@transaction.atomic
def clock_pause(
    *, owner_type: str, owner_id: int, kind: str, now: datetime, actor: Any = None
) -> Clock | None:
    """Pause a running clock, keeping what is left of its budget."""
    clock = _locked(owner_type, owner_id, kind)
    if clock is None or clock.status != Clock.Status.RUNNING:
        return clock
    clock.remaining_seconds = _remaining(clock, now, SpecCache())
    clock.status = Clock.Status.PAUSED
    clock.paused_at = now
    clock.due_at = None
    clock.warn_at = None
    _schedule(clock)
    clock.save()
    _record(clock, "sla.clock.paused", actor, remaining_seconds=clock.remaining_seconds)
    return clock


def _resume(clock: Clock, now: datetime, spec_cache: SpecCache) -> None:
    remaining = clock.remaining_seconds or 0
    d = deadlines(
        spec_cache.get(clock.calendar_id),
        now=now,
        remaining_seconds=remaining,
        budget_seconds=clock.budget_seconds,
        warn_ratio=float(clock.warn_ratio),
        service_hours=clock.service_hours,
    )
    clock.status = Clock.Status.RUNNING
    clock.outcome = Clock.Outcome.NONE
    clock.due_at = d.due_at
    clock.warn_at = d.warn_at if clock.warned_at is None else None
    clock.paused_at = None
    clock.stopped_at = None
    clock.remaining_seconds = None
    _schedule(clock)


@transaction.atomic
def clock_resume(
    *, owner_type: str, owner_id: int, kind: str, now: datetime, actor: Any = None
) -> Clock | None:
    """Resume a paused clock, or reopen a stopped one, with the remainder it had (never a fresh budget)."""
    clock = _locked(owner_type, owner_id, kind)
    if clock is None or clock.status == Clock.Status.RUNNING:
        return clock
    reopened = clock.status == Clock.Status.STOPPED
    _resume(clock, now, SpecCache())
    clock.save()
    _record(
        clock, "sla.clock.reopened" if reopened else "sla.clock.resumed", actor, due_at=_iso(clock.due_at)
    )
    return clock


@transaction.atomic
def clock_follow_status(
    *,
    owner_type: str,
    owner_id: int,
    status: str,
    now: datetime,
    actor: Any = None,
) -> list[Clock]:
    """Pause or resume every open clock of an owner as its policy's pause statuses say.

    Tickets may call this on each status change instead of deciding itself which
    statuses stop the clock: that list is data on the policy.
    """
    changed = []
    clocks = list(
        Clock.objects.unscoped(_WHY)
        .filter(owner_type=owner_type, owner_id=owner_id)
        .exclude(status=Clock.Status.STOPPED)
        .select_related("policy")
    )
    for clock in clocks:
        pauses = status in (clock.policy.pause_statuses or [])
        if pauses and clock.status == Clock.Status.RUNNING:
            result = clock_pause(
                owner_type=owner_type, owner_id=owner_id, kind=clock.kind, now=now, actor=actor
            )
        elif not pauses and clock.status == Clock.Status.PAUSED:
            result = clock_resume(
                owner_type=owner_type, owner_id=owner_id, kind=clock.kind, now=now, actor=actor
            )
        else:
            continue
        if result is not None:
            changed.append(result)
    return changed


def clocks_stop_all(
    *,
    owner_type: str,
    owner_ids: Iterable[int],
    now: datetime,
    handed_over: bool = False,
    actor: Any = None,
) -> list[Clock]:
    """Stop every open clock of some owners (closing or withdrawing an order)."""
    stopped = []
    ids = list(owner_ids)
    open_clocks = list(
        Clock.objects.unscoped(_WHY)
        .filter(owner_type=owner_type, owner_id__in=ids)
        .exclude(status=Clock.Status.STOPPED)
        .values_list("owner_id", "kind")
    )
    for owner_id, kind in open_clocks:
        clock = clock_stop(
            owner_type=owner_type, owner_id=owner_id, kind=kind, now=now, handed_over=handed_over, actor=actor
        )
        if clock is not None:
            stopped.append(clock)
    return stopped
