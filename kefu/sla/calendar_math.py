"""Deadline arithmetic on service calendars: pure functions, explicit ``now``, no database.

A ``CalendarSpec`` is a plain value built from the calendar rows
(``kefu.sla.calendars.spec_for``). All instants are aware datetimes; the
arithmetic runs in UTC (so a server in any time zone gets the same answer) and
the calendar's own zone only decides which wall-clock hours are open.

Windows are half-open ``[opens, closes)``: a clock started at 20:00:00 exactly
on a 08:00-20:00 day starts counting at 08:00 the next open day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
# A calendar with no open hour at all would make deadline search loop forever;
# looking this far ahead is enough for any real calendar (holidays are ≤ 9 days).
MAX_SEARCH_DAYS = 3 * 366


class CalendarHasNoServiceHours(ValueError):
    pass


@dataclass(frozen=True)
class CalendarSpec:
    """Service hours as minutes since local midnight, per ISO weekday (0 = Monday).

    ``hours[w]`` is ``(opens, closes)`` with ``0 <= opens < closes <= 1440``, or
    None when that weekday is closed. ``holidays`` are closed whatever the
    weekday; ``workdays`` (调休 make-up working days) open with ``workday_hours``.
    """

    tz: str = "Asia/Shanghai"
    hours: tuple[tuple[int, int] | None, ...] = ((480, 1200),) * 7
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)
    workday_hours: tuple[int, int] | None = (480, 1200)

    def __post_init__(self) -> None:
        if len(self.hours) != 7:
            raise ValueError("hours needs one entry per weekday")
        for window in (*self.hours, self.workday_hours):
            if window is not None and not (0 <= window[0] < window[1] <= MINUTES_PER_DAY):
                raise ValueError(f"bad service window {window!r}")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def window_minutes(self, day: date) -> tuple[int, int] | None:
        if day in self.holidays:
            return None
        if day in self.workdays:
            return self.workday_hours
        return self.hours[day.weekday()]

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The open interval of a local day as UTC instants, or None when closed."""
        minutes = self.window_minutes(day)
        if minutes is None:
            return None
        return _local_instant(self.zone, day, minutes[0]), _local_instant(self.zone, day, minutes[1])


def _local_instant(zone: ZoneInfo, day: date, minute: int) -> datetime:
    if minute >= MINUTES_PER_DAY:
        day, minute = day + timedelta(days=1), minute - MINUTES_PER_DAY
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    return local.astimezone(UTC)


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: pass an aware instant")
    return moment.astimezone(UTC)


def is_open(spec: CalendarSpec, moment: datetime) -> bool:
    at = _require_aware(moment)
    day = at.astimezone(spec.zone).date()
    for d in (day - timedelta(days=1), day):
        w = spec.window(d)
        if w is not None and w[0] <= at < w[1]:
            return True
    return False


def add_service_seconds(spec: CalendarSpec, start: datetime, seconds: int) -> datetime:
    """The instant at which ``seconds`` of service time have elapsed after ``start``.

    Zero seconds gives ``start`` itself (a clock with nothing left is due now,
    even outside service hours).
    """
    at = _require_aware(start)
    if seconds < 0:
        raise ValueError("seconds must be >= 0")
    if seconds == 0:
        return at
    left = timedelta(seconds=seconds)
    day = at.astimezone(spec.zone).date() - timedelta(days=1)
    for _ in range(MAX_SEARCH_DAYS):
        w = spec.window(day)
        day += timedelta(days=1)
        if w is None or w[1] <= at:
            continue
        begin = max(w[0], at)
        available = w[1] - begin
        if left <= available:
            return begin + left
        left -= available
    raise CalendarHasNoServiceHours("no service hours within the search horizon")


def service_seconds_between(spec: CalendarSpec, start: datetime, end: datetime) -> int:
    """Service seconds in ``[start, end)``; negative when ``end`` is before ``start``."""
    a, b = _require_aware(start), _require_aware(end)
    if b < a:
        return -service_seconds_between(spec, b, a)
    total = timedelta()
    day = a.astimezone(spec.zone).date() - timedelta(days=1)
    last = b.astimezone(spec.zone).date()
    while day <= last:
        w = spec.window(day)
        day += timedelta(days=1)
        if w is None:
            continue
        lo, hi = max(w[0], a), min(w[1], b)
        if hi > lo:
            total += hi - lo
    return int(total.total_seconds())


def add_seconds(spec: CalendarSpec, start: datetime, seconds: int, *, service_hours: bool) -> datetime:
    """Deadline after ``seconds`` of budget, in service hours or natural hours."""
    if service_hours:
        return add_service_seconds(spec, start, seconds)
    return _require_aware(start) + timedelta(seconds=seconds)


def seconds_between(spec: CalendarSpec, start: datetime, end: datetime, *, service_hours: bool) -> int:
    if service_hours:
        return service_seconds_between(spec, start, end)
    return int((_require_aware(end) - _require_aware(start)).total_seconds())


@dataclass(frozen=True)
class Deadlines:
    due_at: datetime
    warn_at: datetime | None  # None when the warning threshold is already behind


def deadlines(
    spec: CalendarSpec,
    *,
    now: datetime,
    remaining_seconds: int,
    budget_seconds: int,
    warn_ratio: float,
    service_hours: bool,
) -> Deadlines:
    """Due and warning instants for a clock (re)starting at ``now`` with ``remaining_seconds`` left.

    The warning falls when ``warn_ratio`` of the whole budget is used, i.e. when
    ``(1 - warn_ratio) * budget`` remains. A negative remainder (a late clock
    being resumed) is due at once.
    """
    remaining = max(0, remaining_seconds)
    due = add_seconds(spec, now, remaining, service_hours=service_hours)
    warn_left = int(round(budget_seconds * (1 - warn_ratio)))
    warn_at: datetime | None = None
    if 0 < warn_ratio < 1 and remaining > warn_left:
        warn_at = add_seconds(spec, now, remaining - warn_left, service_hours=service_hours)
    return Deadlines(due_at=due, warn_at=warn_at)
