"""Deadline math without a database: an edge table computed by hand, and hypothesis properties."""

from __future__ import annotations

import os
import time as _time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.sla.calendar_math import (
    CalendarHasNoServiceHours,
    CalendarSpec,
    add_seconds,
    add_service_seconds,
    deadlines,
    is_open,
    service_seconds_between,
)
from kefu.sla.data import HOLIDAYS

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
H = 3600

# The shipped calendars, written out by hand (not read from kefu.sla.data's CALENDARS).
SEVEN_BY_TWELVE = CalendarSpec()
_off = frozenset(d for _n, days, _w in HOLIDAYS for d in days)
_make_up = frozenset(d for _n, _d, workdays in HOLIDAYS for d in workdays)
WORKDAYS = CalendarSpec(
    hours=((540, 1080),) * 5 + (None, None),
    holidays=_off,
    workdays=_make_up,
    workday_hours=(540, 1080),
)


def sh(y: int, m: int, d: int, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SH)


# (case, calendar, start, service seconds, expected due): each expectation worked out by hand.
EDGES = [
    ("09:00 + 2h", SEVEN_BY_TWELVE, sh(2026, 11, 2, 9), 2 * H, sh(2026, 11, 2, 11)),
    (
        "19:30 + 2h carries to the next morning",
        SEVEN_BY_TWELVE,
        sh(2026, 11, 2, 19, 30),
        2 * H,
        sh(2026, 11, 3, 9, 30),
    ),
    ("20:00:00 exactly is closed", SEVEN_BY_TWELVE, sh(2026, 11, 2, 20), 2 * H, sh(2026, 11, 3, 10)),
    (
        "19:59:59 counts one second",
        SEVEN_BY_TWELVE,
        sh(2026, 11, 2, 19, 59, 59),
        2 * H,
        sh(2026, 11, 3, 9, 59, 59),
    ),
    ("18:00 + 2h ends at closing", SEVEN_BY_TWELVE, sh(2026, 11, 2, 18), 2 * H, sh(2026, 11, 2, 20)),
    ("02:00 waits for opening", SEVEN_BY_TWELVE, sh(2026, 11, 2, 2), 2 * H, sh(2026, 11, 2, 10)),
    ("08:00:00 exactly is open", SEVEN_BY_TWELVE, sh(2026, 11, 2, 8), 2 * H, sh(2026, 11, 2, 10)),
    ("23:30 across midnight", SEVEN_BY_TWELVE, sh(2026, 11, 2, 23, 30), 2 * H, sh(2026, 11, 3, 10)),
    ("month end", SEVEN_BY_TWELVE, sh(2026, 11, 30, 19), 2 * H, sh(2026, 12, 1, 9)),
    (
        "year end, 7x12 works on New Year's Day",
        SEVEN_BY_TWELVE,
        sh(2026, 12, 31, 19, 45),
        2 * H,
        sh(2027, 1, 1, 9, 45),
    ),
    ("into 29 February", SEVEN_BY_TWELVE, sh(2028, 2, 28, 19), 2 * H, sh(2028, 2, 29, 9)),
    ("out of 29 February", SEVEN_BY_TWELVE, sh(2028, 2, 29, 19, 30), 2 * H, sh(2028, 3, 1, 9, 30)),
    ("24 service hours from 09:00", SEVEN_BY_TWELVE, sh(2026, 11, 2, 9), 24 * H, sh(2026, 11, 4, 9)),
    (
        "48 service hours from 19:30",
        SEVEN_BY_TWELVE,
        sh(2026, 11, 2, 19, 30),
        48 * H,
        sh(2026, 11, 6, 19, 30),
    ),
    # Workdays calendar: Mon-Fri 09:00-18:00, holidays off, 调休 days open.
    ("holiday: National Day", WORKDAYS, sh(2026, 10, 1, 10), 2 * H, sh(2026, 10, 8, 11)),
    ("eve of the holiday", WORKDAYS, sh(2026, 9, 30, 17), 2 * H, sh(2026, 10, 8, 10)),
    ("make-up Saturday 10 Oct", WORKDAYS, sh(2026, 10, 9, 17, 30), 2 * H, sh(2026, 10, 10, 10, 30)),
    ("ordinary Saturday is closed", WORKDAYS, sh(2026, 10, 16, 17, 30), 2 * H, sh(2026, 10, 19, 10, 30)),
    ("make-up Sunday 20 Sep", WORKDAYS, sh(2026, 9, 19, 12), 2 * H, sh(2026, 9, 20, 11)),
    (
        "Spring Festival make-up then 9 days off",
        WORKDAYS,
        sh(2026, 2, 14, 17, 30),
        2 * H,
        sh(2026, 2, 24, 10, 30),
    ),
    ("Friday before the make-up Saturday", WORKDAYS, sh(2026, 2, 13, 17), 2 * H, sh(2026, 2, 14, 10)),
    ("29 February 2028 is a Tuesday", WORKDAYS, sh(2028, 2, 28, 17), 2 * H, sh(2028, 2, 29, 10)),
    ("month end on a weekend", WORKDAYS, sh(2026, 10, 30, 17), 2 * H, sh(2026, 11, 2, 10)),
]


@pytest.mark.parametrize("case,spec,start,seconds,expected", EDGES, ids=[e[0] for e in EDGES])
@pytest.mark.parametrize(
    "given_in", [SH, UTC, NY], ids=["given-in-Shanghai", "given-in-UTC", "given-in-New-York"]
)
def test_edge_table(case, spec, start, seconds, expected, given_in):
    due = add_service_seconds(spec, start.astimezone(given_in), seconds)
    assert due == expected
    assert service_seconds_between(spec, start, due) == seconds


@pytest.mark.parametrize("server_tz", ["UTC", "America/Los_Angeles", "Asia/Kolkata"])
def test_server_time_zone_does_not_matter(server_tz, monkeypatch):
    monkeypatch.setenv("TZ", server_tz)
    _time.tzset()
    try:
        for _case, spec, start, seconds, expected in EDGES:
            assert add_service_seconds(spec, start, seconds) == expected
    finally:
        monkeypatch.undo()
        _time.tzset()
    assert os.environ.get("TZ") != server_tz


def test_calendar_in_a_zone_with_daylight_saving():
    berlin = ZoneInfo("Europe/Berlin")
    spec = CalendarSpec(tz="Europe/Berlin")
    # 2026-03-29 02:00 CET jumps to 03:00 CEST; opening hours stay 08:00-20:00 local.
    start = datetime(2026, 3, 28, 19, tzinfo=berlin)
    due = add_service_seconds(spec, start, 2 * H)
    assert due == datetime(2026, 3, 29, 9, tzinfo=berlin)
    assert due.astimezone(UTC) == datetime(2026, 3, 29, 7, tzinfo=UTC)


def test_windows_are_half_open():
    assert is_open(SEVEN_BY_TWELVE, sh(2026, 11, 2, 8))
    assert is_open(SEVEN_BY_TWELVE, sh(2026, 11, 2, 19, 59, 59))
    assert not is_open(SEVEN_BY_TWELVE, sh(2026, 11, 2, 20))
    assert not is_open(WORKDAYS, sh(2026, 10, 1, 10))
    assert is_open(WORKDAYS, sh(2026, 10, 10, 10))


def test_natural_hours_ignore_the_calendar():
    assert add_seconds(WORKDAYS, sh(2026, 9, 30, 17), 24 * H, service_hours=False) == sh(2026, 10, 1, 17)


def test_zero_seconds_is_due_at_once_even_when_closed():
    assert add_service_seconds(SEVEN_BY_TWELVE, sh(2026, 11, 2, 23), 0) == sh(2026, 11, 2, 23)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        add_service_seconds(SEVEN_BY_TWELVE, datetime(2026, 11, 2, 9), 60)


def test_a_calendar_without_hours_fails_instead_of_looping():
    closed = CalendarSpec(hours=(None,) * 7, workday_hours=None)
    with pytest.raises(CalendarHasNoServiceHours):
        add_service_seconds(closed, sh(2026, 11, 2, 9), 60)


def test_midnight_closing_and_overnight_windows_join_up():
    always = CalendarSpec(hours=((0, 1440),) * 7)
    assert add_service_seconds(always, sh(2026, 11, 2, 23), 2 * H) == sh(2026, 11, 3, 1)


def test_deadlines_warn_at_three_quarters_of_the_budget():
    d = deadlines(
        SEVEN_BY_TWELVE,
        now=sh(2026, 11, 2, 19),
        remaining_seconds=2 * H,
        budget_seconds=2 * H,
        warn_ratio=0.75,
        service_hours=True,
    )
    assert (d.due_at, d.warn_at) == (sh(2026, 11, 3, 9), sh(2026, 11, 3, 8, 30))
    resumed = deadlines(
        SEVEN_BY_TWELVE,
        now=sh(2026, 11, 3, 12),
        remaining_seconds=20 * 60,
        budget_seconds=2 * H,
        warn_ratio=0.75,
        service_hours=True,
    )
    assert (resumed.due_at, resumed.warn_at) == (sh(2026, 11, 3, 12, 20), None)
    late = deadlines(
        SEVEN_BY_TWELVE,
        now=sh(2026, 11, 3, 12),
        remaining_seconds=-600,
        budget_seconds=2 * H,
        warn_ratio=0.75,
        service_hours=True,
    )
    assert late.due_at == sh(2026, 11, 3, 12)


# -- properties ---------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.sampled_from([SH, UTC, NY])
)
budgets = st.integers(min_value=0, max_value=60 * H)
calendars = st.sampled_from([SEVEN_BY_TWELVE, WORKDAYS])


@settings(max_examples=300, deadline=None)
@given(spec=calendars, start=instants, seconds=budgets)
def test_service_time_round_trips(spec, start, seconds):
    due = add_service_seconds(spec, start, seconds)
    assert due >= start
    assert service_seconds_between(spec, start, due) == seconds


@settings(max_examples=200, deadline=None)
@given(spec=calendars, start=instants, a=budgets, b=budgets)
def test_adding_twice_is_adding_the_sum(spec, start, a, b):
    once = add_service_seconds(spec, start, a + b)
    assert add_service_seconds(spec, add_service_seconds(spec, start, a), b) == once


@settings(max_examples=200, deadline=None)
@given(spec=calendars, start=instants, a=budgets, b=budgets)
def test_more_budget_never_means_an_earlier_deadline(spec, start, a, b):
    lo, hi = sorted((a, b))
    assert add_service_seconds(spec, start, lo) <= add_service_seconds(spec, start, hi)


@settings(max_examples=200, deadline=None)
@given(spec=calendars, start=instants, seconds=st.integers(min_value=1, max_value=60 * H))
def test_a_deadline_falls_at_the_end_of_a_served_second(spec, start, seconds):
    due = add_service_seconds(spec, start, seconds)
    assert is_open(spec, due - timedelta(microseconds=1))


@settings(max_examples=200, deadline=None)
@given(spec=calendars, a=instants, b=instants, c=instants)
def test_service_seconds_add_up_over_a_split(spec, a, b, c):
    # Whole seconds: the function reports whole seconds, so sub-second parts may round differently.
    a, b, c = sorted(x.replace(microsecond=0) for x in (a, b, c))
    assert service_seconds_between(spec, a, c) == service_seconds_between(
        spec, a, b
    ) + service_seconds_between(spec, b, c)


def test_seeded_holidays_cover_three_years():
    years = {d.year for d in _off}
    assert years == {2025, 2026, 2027}
    assert date(2026, 10, 1) in _off and date(2026, 10, 10) in _make_up
    assert not (_off & _make_up)
