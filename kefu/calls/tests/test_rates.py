"""The 20-second answer rate against a hand-computed table (第七条(一))."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kefu.calls import rates
from kefu.calls.rates import CallTimes, Tally
from kefu.sla.calendar_math import CalendarSpec

SH = ZoneInfo("Asia/Shanghai")
SEVEN_BY_TWELVE = CalendarSpec()  # every day 08:00-20:00 Asia/Shanghai
HOLIDAY = date(2026, 10, 1)
WITH_HOLIDAY = CalendarSpec(holidays=frozenset({HOLIDAY}))


def at(day: int, hh: int, mm: int, ss: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hh, mm, ss, tzinfo=SH)


def call(
    request: datetime | None, wait: float | None = None, *, abandoned: bool = False, inbound: bool = True
) -> CallTimes:
    answered = request + timedelta(seconds=wait) if request is not None and wait is not None else None
    return CallTimes(request_at=request, answered_at=answered, abandoned=abandoned, inbound=inbound)


@pytest.mark.parametrize(
    ("wait", "in_target"), [(19, True), (20, True), (20.001, False), (21, False), (0, True)]
)
def test_answered_within_twenty_seconds_is_at_most_twenty(wait, in_target):
    assert rates.answered_within(call(at(3, 9, 0), wait)) is in_target


def test_what_counts_as_a_request():
    assert rates.is_request(call(at(3, 9, 0), 5))
    assert rates.is_request(call(at(3, 9, 0), abandoned=True))
    assert not rates.is_request(call(None))  # ended in the IVR: never asked for an agent
    assert not rates.is_request(call(at(3, 9, 0), 5, inbound=False))  # an outbound call


def test_hand_computed_day():
    calls = [
        call(at(3, 9, 0), 19),  # 09:00 slot, in target
        call(at(3, 9, 5), 20),  # 09:00 slot, in target (exactly 20 s)
        call(at(3, 9, 10), 21),  # 09:00 slot, answered late
        call(at(3, 9, 29, 50), 15),  # asked 09:29:50, answered 09:30:05: 09:00 slot, in target
        call(at(3, 9, 30), abandoned=True),  # 09:30 slot, abandoned
        call(at(3, 9, 31), 3),  # 09:30 slot, in target
        call(at(3, 7, 59, 59), 2),  # before 08:00: outside, counted apart
        call(at(3, 8, 0), 10),  # 08:00:00 is inside (half-open window)
        call(at(3, 19, 59, 59), 30),  # inside, late
        call(at(3, 20, 0), 1),  # 20:00:00 is outside
        call(None),  # IVR only: not a request at all
    ]
    result = rates.breakdown(SEVEN_BY_TWELVE, calls)
    # inside: 09:00 x4, 09:30 x2, 08:00, 19:59:59 = 8 requests; in target: 19, 20, 15, 3, 10 = 5
    assert (result.inside.offered, result.inside.answered_in_target) == (8, 5)
    assert result.inside.rate == pytest.approx(62.5)
    assert result.inside.abandoned == 1
    assert result.inside.abandon_rate == pytest.approx(12.5)
    # answered inside: 7 calls, waits 19+20+21+15+3+10+30 = 118
    assert result.inside.answered == 7
    assert result.inside.asa == pytest.approx(118 / 7)
    assert (result.outside.offered, result.outside.answered_in_target) == (2, 2)
    nine = at(3, 9, 0).astimezone(UTC)
    half_past = at(3, 9, 30).astimezone(UTC)
    assert (result.slots[nine].offered, result.slots[nine].answered_in_target) == (4, 3)
    assert (result.slots[half_past].offered, result.slots[half_past].answered_in_target) == (2, 1)
    assert result.slots[at(3, 19, 30).astimezone(UTC)].rate == 0.0
    assert at(3, 20, 0).astimezone(UTC) not in result.slots


def test_a_holiday_closes_a_calendar_that_observes_it():
    day = [call(at(1, 10, 0, month=10), 5), call(at(1, 10, 1, month=10), 25)]
    open_result = rates.breakdown(SEVEN_BY_TWELVE, day)
    closed = rates.breakdown(WITH_HOLIDAY, day)
    assert (open_result.inside.offered, open_result.inside.answered_in_target) == (2, 1)
    assert (closed.inside.offered, closed.outside.offered) == (0, 2)
    assert closed.inside.rate is None  # nobody asked inside: no rate, neither 0% nor 100%


def test_slot_of_uses_local_half_hours():
    assert rates.slot_of(SEVEN_BY_TWELVE, at(3, 9, 29, 59)) == at(3, 9, 0).astimezone(UTC)
    assert rates.slot_of(SEVEN_BY_TWELVE, at(3, 9, 30)) == at(3, 9, 30).astimezone(UTC)
    assert rates.slot_in_hours(SEVEN_BY_TWELVE, at(3, 7, 30).astimezone(UTC)) is False
    assert rates.slot_in_hours(SEVEN_BY_TWELVE, at(3, 8, 0).astimezone(UTC)) is True
    assert rates.slot_in_hours(SEVEN_BY_TWELVE, at(3, 19, 30).astimezone(UTC)) is True
    assert rates.slot_in_hours(SEVEN_BY_TWELVE, at(3, 20, 0).astimezone(UTC)) is False


def test_target_is_strictly_above_ninety():
    t = Tally(offered=10, answered_in_target=9)
    assert rates.meets_target(t, 90.0) is False  # ">90%": exactly 90% is not met
    assert rates.meets_target(Tally(offered=100, answered_in_target=91), 90.0) is True
    assert rates.meets_target(Tally(), 90.0) is None


def test_tallies_add_up():
    a, b = Tally(), Tally()
    a.add_call(call(at(3, 9, 0), 10))
    b.add_call(call(at(3, 9, 0), abandoned=True))
    a.add(b)
    assert (a.offered, a.answered, a.answered_in_target, a.abandoned) == (2, 1, 1, 1)
