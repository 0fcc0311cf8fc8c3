"""Turning calendar rows into the pure ``CalendarSpec`` the deadline math works on."""

from __future__ import annotations

from datetime import date, time

from .calendar_math import MINUTES_PER_DAY, CalendarSpec
from .models import Holiday, ServiceCalendar


def _minutes(opens: time, closes: time) -> tuple[int, int] | None:
    start = opens.hour * 60 + opens.minute
    end = closes.hour * 60 + closes.minute
    if end == 0:
        end = MINUTES_PER_DAY  # 00:00 as a closing time means midnight at the end of the day
    return (start, end) if end > start else None


def spec_for(calendar: ServiceCalendar) -> CalendarSpec:
    hours: list[tuple[int, int] | None] = [None] * 7
    for row in calendar.hours.all():
        hours[row.weekday] = _minutes(row.opens, row.closes)
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    if calendar.observes_holidays:
        rows = list(Holiday.objects.values_list("date", "kind"))
        holidays = frozenset(d for d, k in rows if k == Holiday.Kind.OFF)
        workdays = frozenset(d for d, k in rows if k == Holiday.Kind.WORKDAY)
    return CalendarSpec(
        tz=calendar.timezone,
        hours=tuple(hours),
        holidays=holidays,
        workdays=workdays,
        workday_hours=hours[0] or next((h for h in hours if h), None),
    )


class SpecCache:
    """Specs by calendar id for the length of one operation (a sweep, a page)."""

    def __init__(self) -> None:
        self._specs: dict[int, CalendarSpec] = {}

    def get(self, calendar_id: int) -> CalendarSpec:
        spec = self._specs.get(calendar_id)
        if spec is None:
            calendar = ServiceCalendar.objects.prefetch_related("hours").get(pk=calendar_id)
            spec = self._specs[calendar_id] = spec_for(calendar)
        return spec
