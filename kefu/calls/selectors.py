"""Scoped reads: call logs, one call, the answer-rate tables (from the half-hour rows), agents' figures."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Avg, Count, F, Q, QuerySet, Sum

from kefu.core.errors import NotFound
from kefu.core.scope import Scope
from kefu.customers.phones import try_normalize_phone

from . import rates
from .models import Call, DayTotal, HalfHour, Line, Outcome, RateAlert, ScreenPop, SlotDelta

ZONE = ZoneInfo("Asia/Shanghai")


def lines_in_scope(scope: Scope) -> QuerySet[Line]:
    return Line.objects.scoped(scope).filter(is_active=True).select_related("province", "calendar")


def line_in_scope(scope: Scope, code: str) -> Line:
    line = lines_in_scope(scope).filter(code=code).first()
    if line is None:
        raise NotFound()
    return line


def calls_in_scope(scope: Scope) -> QuerySet[Call]:
    return Call.objects.scoped(scope).select_related("line", "agent", "customer", "contact")


def call_in_scope(scope: Scope, pk: int) -> Call:
    call = calls_in_scope(scope).filter(pk=pk).first()
    if call is None:
        raise NotFound()
    return call


def local_day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """UTC instants of local midnight at ``start`` and at the day after ``end``."""
    return (
        datetime.combine(start, time(0), tzinfo=ZONE),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=ZONE),
    )


def call_list(
    scope: Scope,
    *,
    line: str = "",
    day_from: date | None = None,
    day_to: date | None = None,
    outcome: str = "",
    q: str = "",
    agent: str = "",
) -> QuerySet[Call]:
    qs = calls_in_scope(scope)
    if line:
        qs = qs.filter(line__code=line)
    if day_from or day_to:
        lo, hi = local_day_bounds(day_from or date(2000, 1, 1), day_to or date(2100, 1, 1))
        qs = qs.filter(started_at__gte=lo, started_at__lt=hi)
    if outcome:
        qs = qs.filter(outcome=outcome)
    if q:
        number = try_normalize_phone(q)
        qs = qs.filter(Q(caller=number) if number else Q(caller_raw__icontains=q) | Q(call_id=q))
    if agent:
        qs = qs.filter(Q(agent__username=agent) | Q(agent_ref=agent))
    return qs.order_by("-started_at", "-id")


def pops_for(scope: Scope, user_id: int, *, after: int, limit: int = 5) -> list[ScreenPop]:
    return list(
        ScreenPop.objects.scoped(scope)
        .filter(user_id=user_id, pk__gt=after)
        .select_related("call__line")
        .order_by("-pk")[:limit]
    )


def last_pop_id(user_id: int) -> int:
    row = (
        ScreenPop.objects.unscoped("the newest id of one's own pops, to start polling after it")
        .filter(user_id=user_id)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return row or 0


# -- rate tables ------------------------------------------------------------------------------------------


@dataclass
class LineFigures:
    line: Line
    total: rates.Tally = field(default_factory=rates.Tally)
    outside: rates.Tally = field(default_factory=rates.Tally)
    days: dict[date, rates.Tally] = field(default_factory=dict)
    slots: dict[datetime, rates.Tally] = field(default_factory=dict)  # local half-hour start -> tally

    @property
    def target(self) -> float:
        return float(self.line.target_percent)

    @property
    def met(self) -> bool | None:
        return rates.meets_target(self.total, self.target)


def rate_figures(
    scope: Scope,
    *,
    start: date,
    end: date,
    lines: list[Line] | None = None,
    with_slots: bool = True,
    slots_for: str | None = None,
) -> list[LineFigures]:
    """Per line: the period's rate, per day, per half hour (inside the calendar), and outside apart.

    Summed by the database from the half-hour rows; the half hours themselves are read only for
    ``slots_for`` (a line code) or for every line when ``with_slots`` and no line is named.
    """
    lines = lines if lines is not None else list(lines_in_scope(scope))
    figures = {line.pk: LineFigures(line) for line in lines}
    if not figures:
        return []
    period = {"line_id__in": figures, "day__gte": start, "day__lte": end}
    # Folded rollups plus the deltas not yet folded, in ONE statement (one snapshot): a fold
    # committing between two reads can neither drop nor double a call.
    days = (
        DayTotal.objects.scoped(scope)
        .filter(**period)
        .values("line_id", "day", "in_hours")
        .annotate(**_aliases())
        .union(
            SlotDelta.objects.scoped(scope)
            .filter(**period)
            .values("line_id", "day", "in_hours")
            .annotate(**_sums())
            .order_by(),
            all=True,
        )
    )
    for r in days:
        f = figures[r["line_id"]]
        tally = _tally_of(r)
        if not r["in_hours"]:
            f.outside.add(tally)
            continue
        f.total.add(tally)
        f.days.setdefault(r["day"], rates.Tally()).add(tally)
    if with_slots or slots_for:
        wanted = [pk for pk, f in figures.items() if slots_for is None or f.line.code == slots_for]
        if not wanted:
            return list(figures.values())
        inside = {**period, "line_id__in": wanted, "in_hours": True}
        slots = (
            HalfHour.objects.scoped(scope)
            .filter(**inside)
            .values("line_id", "slot")
            .annotate(**_aliases())
            .union(
                SlotDelta.objects.scoped(scope)
                .filter(**inside)
                .values("line_id", "slot")
                .annotate(**_sums())
                .order_by(),
                all=True,
            )
        )
        for r in slots:
            moment = r["slot"].astimezone(ZONE).replace(tzinfo=None)
            figures[r["line_id"]].slots.setdefault(moment, rates.Tally()).add(_tally_of(r))
    return list(figures.values())


_ALIASES = {
    "n_offered": "offered",
    "n_answered": "answered",
    "n_in_target": "answered_in_target",
    "n_abandoned": "abandoned",
    "n_wait": "wait_answered_seconds",
    "n_talk": "talk_seconds",
}


def _aliases() -> dict[str, Any]:
    return {alias: F(name) for alias, name in _ALIASES.items()}


def _sums() -> dict[str, Any]:
    return {alias: Sum(name) for alias, name in _ALIASES.items()}


def _tally_of(r: dict[str, Any]) -> rates.Tally:
    return rates.Tally(
        # int(): PostgreSQL sums bigints as numeric (Decimal) on the delta side of the union
        offered=int(r["n_offered"] or 0),
        answered=int(r["n_answered"] or 0),
        answered_in_target=int(r["n_in_target"] or 0),
        abandoned=int(r["n_abandoned"] or 0),
        wait_answered_seconds=float(r["n_wait"] or 0),
        talk_seconds=int(r["n_talk"] or 0),
    )


def slot_profile(figure: LineFigures) -> list[tuple[str, rates.Tally]]:
    """The period's half hours folded onto one day (09:00, 09:30, ...): the day curve."""
    by_clock: dict[str, rates.Tally] = defaultdict(rates.Tally)
    for moment, tally in figure.slots.items():
        by_clock[moment.strftime("%H:%M")].add(tally)
    return sorted(by_clock.items())


@dataclass
class AgentFigures:
    agent: str
    answered: int
    in_target: int
    talk_seconds: int
    avg_wait: float | None
    avg_talk: float | None


def agent_figures(scope: Scope, *, start: date, end: date, line: Line | None = None) -> list[AgentFigures]:
    lo, hi = local_day_bounds(start, end)
    qs = Call.objects.scoped(scope).filter(
        direction="in", answered_at__isnull=False, request_at__gte=lo, request_at__lt=hi
    )
    if line is not None:
        qs = qs.filter(line=line)
    rows = (
        qs.values("agent__display_name", "agent__username", "agent_ref")
        .annotate(
            n=Count("id"),
            fast=Count("id", filter=Q(answered_in_target=True)),
            talk=Sum("talk_seconds"),
            wait=Avg("wait_seconds"),
            avg_talk=Avg("talk_seconds"),
        )
        .order_by("-n")
    )
    return [
        AgentFigures(
            agent=r["agent__display_name"] or r["agent__username"] or f"{r['agent_ref']} (?)",
            answered=r["n"],
            in_target=r["fast"],
            talk_seconds=r["talk"] or 0,
            avg_wait=r["wait"],
            avg_talk=r["avg_talk"],
        )
        for r in rows
    ]


def today(now: datetime) -> date:
    return now.astimezone(ZONE).date()


def alerts_today(scope: Scope, now: datetime) -> list[RateAlert]:
    lo, _hi = local_day_bounds(today(now), today(now))
    return list(RateAlert.objects.scoped(scope).filter(window_end__gte=lo).select_related("line")[:10])


def outcomes() -> list[tuple[str, str]]:
    return [(str(v), str(label)) for v, label in Outcome.choices]
