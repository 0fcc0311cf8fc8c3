"""On-time rates as 第七条 defines them, from the resolve clocks.

投诉工单解决及时率 = 及时解决的投诉工单数 / 投诉工单受理总量 × 100%.

Each hop's resolve clock is one accepted order for the team that held it, in
the month it was accepted (``started_at``, Beijing time). A clock is

* on time: stopped ``met``;
* late: stopped ``late``, or still open and already past its deadline (it can
  no longer be on time);
* pending: still open and not yet due;
* not counted: stopped ``handed_over`` (returned or transferred in time: the
  next hop's clock carries the order).

Per team, an order counts once for every team that held it (the desk's 48-hour
clock and the hotline hop's 24-hour clock are two accepted orders, one for each
team): 第七条 gives the hotline (二)1 and the province desks (二)2 each its own
98%. Per province, only the clocks charged to the province's own teams count
((二)2: 省公司处理的投诉工单): an order the desk sent on to the hotline counts
once for the province, not a second time through the hotline's hop, whose
24 hours are the hotline's figure (its team row), not the province's.

The month-to-date rate is on time / (on time + late): pending orders are not
yet decided. The projection adds the rest of the month at the volume and late
ratio of the last 7 days (pending orders are counted at that ratio too). The
late-order allowance is how many more late orders keep the projected month at
the target: ``floor(projected volume × (1 − target)) − late so far``.
"""

from __future__ import annotations

import calendar as pycal
import dataclasses
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import BooleanField, Case, Count, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from kefu.core.scope import Scope

from .models import Clock, ClockKind, Policy

TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_TARGET = Decimal("98")
GROUPS = {
    "team": ("team_id", "team__name"),
    "province": ("province_id", "province__name"),
    "ticket_kind": ("ticket_kind", "ticket_kind"),
}


def month_bounds(month: date) -> tuple[datetime, datetime]:
    first = month.replace(day=1)
    days = pycal.monthrange(first.year, first.month)[1]
    start = datetime.combine(first, datetime.min.time(), tzinfo=TZ)
    return start, start + timedelta(days=days)


@dataclass(frozen=True)
class Counts:
    on_time: int
    late: int
    pending: int

    @property
    def decided(self) -> int:
        return self.on_time + self.late

    @property
    def accepted(self) -> int:
        return self.on_time + self.late + self.pending


@dataclass(frozen=True)
class RateRow:
    key: Any
    label: str
    counts: Counts
    recent: Counts  # the last 7 days of the month so far
    rate: float | None  # month to date, percent
    projected_rate: float | None
    projected_volume: int
    late_allowance: int  # more late orders before the projected month falls under the target
    target: float

    @property
    def below_target(self) -> bool:
        return self.rate is not None and self.rate < self.target

    @property
    def late_over(self) -> int:
        """How many late orders beyond the allowance (0 while within it)."""
        return max(0, -self.late_allowance)

    @property
    def projected_below(self) -> bool:
        return self.projected_rate is not None and self.projected_rate < self.target


def late_q(now: datetime) -> Q:
    """Late, or can no longer be on time: the one definition (the rates and the daily series both use it)."""
    return Q(outcome=Clock.Outcome.LATE) | (
        ~Q(status=Clock.Status.STOPPED)
        & (
            Q(breached_at__isnull=False)
            | Q(due_at__lte=now, status=Clock.Status.RUNNING)
            # Paused after its deadline before a sweep saw it: the sweep never looks at paused clocks.
            | Q(status=Clock.Status.PAUSED, remaining_seconds__lt=0)
        )
    )


def _counts(qs: QuerySet[Clock], now: datetime, by: tuple[str, ...]) -> dict[Any, Counts]:
    late = late_q(now)
    rows = (
        qs.exclude(outcome=Clock.Outcome.HANDED_OVER)
        .values(*by)
        .annotate(
            on_time=Count("id", filter=Q(outcome=Clock.Outcome.MET)),
            late=Count("id", filter=late),
            total=Count("id"),
        )
        .order_by()
    )
    out = {}
    for r in rows:
        key = tuple(r[b] for b in by) if len(by) > 1 else r[by[0]]
        out[key] = Counts(on_time=r["on_time"], late=r["late"], pending=r["total"] - r["on_time"] - r["late"])
    return out


def project(
    counts: Counts,
    recent: Counts,
    *,
    elapsed: timedelta,
    remaining: timedelta,
    recent_span: timedelta,
    target: float,
) -> tuple[float | None, int, int]:
    """(projected rate, projected volume, late allowance) for one row. Pure."""
    recent_days = max(recent_span.total_seconds() / 86400, 1e-9)
    per_day = recent.accepted / recent_days
    future = per_day * remaining.total_seconds() / 86400
    late_ratio = (
        recent.late / recent.decided
        if recent.decided
        else (counts.late / counts.decided if counts.decided else 0.0)
    )
    volume = counts.accepted + future
    expected_late = counts.late + (counts.pending + future) * late_ratio
    # Without a single decided order there is nothing to project from.
    known = counts.decided > 0 or recent.decided > 0
    projected_rate = None if volume <= 0 or not known else round(100 * (1 - expected_late / volume), 2)
    projected_volume = int(round(volume))
    allowance = math.floor(projected_volume * (100 - target) / 100 + 1e-9) - counts.late
    return projected_rate, projected_volume, allowance


def policy_target(ticket_kind: str) -> Decimal:
    """The on-time target of the active resolve policies for a ticket kind (the strictest), default 98%."""
    values = Policy.objects.filter(
        is_active=True, target=ClockKind.RESOLVE, ticket_kind__in=[ticket_kind, ""]
    ).values_list("on_time_target", flat=True)
    return max(values, default=DEFAULT_TARGET)


def _accepted(
    scope: Scope, *, start: datetime, cut: datetime, ticket_kind: str, where: Q | None
) -> QuerySet[Clock]:
    """The resolve clocks accepted (started) in ``[start, cut)``: the denominator's rows, before grouping."""
    qs = Clock.objects.scoped(scope).filter(kind=ClockKind.RESOLVE, started_at__gte=start, started_at__lt=cut)
    if ticket_kind:
        qs = qs.filter(ticket_kind=ticket_kind)
    if where is not None:
        qs = qs.filter(where)
    return qs


def on_time_rates(
    scope: Scope,
    *,
    month: date,
    now: datetime,
    group_by: str = "team",
    ticket_kind: str = "complaint",
    where: Q | None = None,
    target: Decimal | None = None,
) -> list[RateRow]:
    """One row per team (province, ticket kind) with clocks accepted in ``month``; scoped."""
    if target is None:
        target = policy_target(ticket_kind)
    key_field, label_field = GROUPS[group_by]
    start, end = month_bounds(month)
    cut = min(now, end)
    qs = _accepted(scope, start=start, cut=cut, ticket_kind=ticket_kind, where=where)
    if group_by == "province":
        # (二)2: the province's own handling; the national teams' hops are theirs (see the module docstring).
        qs = qs.filter(team__province__isnull=False)
    by = (key_field, label_field) if key_field != label_field else (key_field,)
    month_counts = _counts(qs, now, by)
    recent_start = max(start, cut - timedelta(days=7))
    recent_counts = _counts(qs.filter(started_at__gte=recent_start), now, by)
    elapsed, remaining = cut - start, max(end - cut, timedelta())
    rows = []
    for key, counts in month_counts.items():
        ident, label = key if isinstance(key, tuple) else (key, key)
        recent = recent_counts.get(key, Counts(0, 0, 0))
        proj, volume, allowance = project(
            counts,
            recent,
            elapsed=elapsed,
            remaining=remaining,
            recent_span=cut - recent_start,
            target=float(target),
        )
        rate = round(100 * counts.on_time / counts.decided, 2) if counts.decided else None
        rows.append(
            RateRow(
                key=ident,
                label=str(label or "—"),
                counts=counts,
                recent=recent,
                rate=rate,
                projected_rate=proj,
                projected_volume=volume,
                late_allowance=allowance,
                target=float(target),
            )
        )
    rows.sort(key=lambda r: (r.rate if r.rate is not None else 101, r.label))
    return rows


# The rule's own groups (第七条(二)): a province's complaint orders (its desk and account managers,
# 48 h) and the hotline/online team's (24 h) are two rates with their own deadlines, never one sum.
RULE_GROUPS: tuple[tuple[str, Any, Q], ...] = (
    ("province", _("省公司处理(48 小时，第七条(二)2)"), Q(team__province__isnull=False)),
    ("national", _("语音/在线客服处理(24 小时，第七条(二)1)"), Q(team__province__isnull=True)),
)


def headline(
    scope: Scope, *, month: date, now: datetime, where: Q | None = None, ticket_kind: str = "complaint"
) -> list[RateRow]:
    """One row per rule group that has clocks in ``month`` for this reader: the headline figures."""
    out = []
    for key, label, q in RULE_GROUPS:
        rows = on_time_rates(
            scope,
            month=month,
            now=now,
            group_by="ticket_kind",
            ticket_kind=ticket_kind,
            where=q if where is None else where & q,
        )
        if rows:
            out.append(dataclasses.replace(rows[0], key=key, label=str(label)))
    return out


def daily_series(
    scope: Scope, *, month: date, now: datetime, ticket_kind: str = "complaint", where: Q | None = None
) -> list[tuple[date, Counts, float | None]]:
    """Cumulative month-to-date rate at the end of each day so far (for the line chart)."""
    start, end = month_bounds(month)
    cut = min(now, end)
    qs = _accepted(scope, start=start, cut=cut, ticket_kind=ticket_kind, where=where)
    rows = list(
        qs.exclude(outcome=Clock.Outcome.HANDED_OVER)
        .annotate(
            is_late=Case(
                When(late_q(now), then=Value(True)), default=Value(False), output_field=BooleanField()
            ),
        )
        .values_list("started_at", "outcome", "is_late")
    )
    out = []
    on_time = late = pending = 0
    day = start
    by_day: dict[date, list[tuple[Any, ...]]] = {}
    for r in rows:
        by_day.setdefault(r[0].astimezone(TZ).date(), []).append(r)
    while day < cut:
        for _started, outcome, is_late in by_day.get(day.date(), []):
            if outcome == Clock.Outcome.MET:
                on_time += 1
            elif is_late:
                late += 1
            else:
                pending += 1
        decided = on_time + late
        out.append(
            (
                day.date(),
                Counts(on_time, late, pending),
                round(100 * on_time / decided, 2) if decided else None,
            )
        )
        day += timedelta(days=1)
    return out
