"""The 20-second answer rate of 第七条(一), exactly as the rule defines it: pure functions, no database.

    20 秒接通率(%) = 20 秒内接通量 / 人工呼入请求量

* 人工呼入请求 (a request for an agent): an inbound call that entered the agent
  queue (``request_at`` set). A call that ended in the IVR never asked for an
  agent and is not counted. A call an agent answered without a recorded queue
  entry asked at its arrival.
* 20 秒内接通 (answered within 20 s): answered by an agent at most 20 s after the
  request (``answered_at - request_at <= 20 s``; 20.0 s counts, 20.001 s does not).
  An abandoned, overflowed or still-waiting call is a request that was not
  answered in time.
* A call belongs to the half hour (local time of the line's calendar) in which
  it asked for an agent, and so to that day and month, even when it is answered
  in the next half hour.
* Only requests made inside the line's service calendar count toward the rate
  (7×12 for the hotline: 08:00 inclusive to 20:00 exclusive, every day; a
  holiday closes a calendar that observes them). Requests outside it are
  counted apart (``outside``) and shown, never mixed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from kefu.sla.calendar_math import CalendarSpec, is_open

TARGET_SECONDS = 20
LOCAL = ZoneInfo("Asia/Shanghai")  # the zone reports are read in (day and month of a half hour)
SLOT = timedelta(minutes=30)


@dataclass(frozen=True)
class CallTimes:
    """What the rule needs of one call."""

    request_at: datetime | None
    answered_at: datetime | None
    abandoned: bool = False
    talk_seconds: int = 0
    inbound: bool = True


def is_request(call: CallTimes) -> bool:
    """A 人工呼入请求: an inbound call that asked for an agent."""
    return call.inbound and call.request_at is not None


def wait_seconds(call: CallTimes) -> float | None:
    if call.request_at is None or call.answered_at is None:
        return None
    return max(0.0, (call.answered_at - call.request_at).total_seconds())


def answered_within(call: CallTimes, seconds: int = TARGET_SECONDS) -> bool:
    """A 20 秒内接通: answered at most ``seconds`` after the request."""
    wait = wait_seconds(call)
    return is_request(call) and wait is not None and wait <= seconds


def slot_of(spec: CalendarSpec, moment: datetime) -> datetime:
    """The UTC start of the local half hour holding ``moment``."""
    local = moment.astimezone(spec.zone)
    start = local.replace(minute=30 if local.minute >= 30 else 0, second=0, microsecond=0)
    return start.astimezone(UTC)


@dataclass
class Tally:
    """Figures of a set of requests: one half hour, a day, a month, an agent."""

    offered: int = 0
    answered: int = 0
    answered_in_target: int = 0
    abandoned: int = 0
    wait_answered_seconds: float = 0.0
    talk_seconds: int = 0

    def add_call(self, call: CallTimes, seconds: int = TARGET_SECONDS) -> None:
        if not is_request(call):
            return
        self.offered += 1
        wait = wait_seconds(call)
        if wait is not None:
            self.answered += 1
            self.wait_answered_seconds += wait
            self.talk_seconds += call.talk_seconds
            if wait <= seconds:
                self.answered_in_target += 1
        elif call.abandoned:
            self.abandoned += 1

    def add(self, other: Tally) -> None:
        self.offered += other.offered
        self.answered += other.answered
        self.answered_in_target += other.answered_in_target
        self.abandoned += other.abandoned
        self.wait_answered_seconds += other.wait_answered_seconds
        self.talk_seconds += other.talk_seconds

    @property
    def rate(self) -> float | None:
        """20 秒接通率 in percent; None when nobody asked (no rate, not 0% nor 100%)."""
        return 100.0 * self.answered_in_target / self.offered if self.offered else None

    @property
    def answer_rate(self) -> float | None:
        return 100.0 * self.answered / self.offered if self.offered else None

    @property
    def abandon_rate(self) -> float | None:
        return 100.0 * self.abandoned / self.offered if self.offered else None

    @property
    def asa(self) -> float | None:
        """Average speed of answer in seconds (answered calls only)."""
        return self.wait_answered_seconds / self.answered if self.answered else None

    @property
    def average_talk(self) -> float | None:
        return self.talk_seconds / self.answered if self.answered else None


@dataclass
class Breakdown:
    """Requests split by the calendar: ``inside`` counts toward the rate, ``outside`` is shown apart."""

    inside: Tally = field(default_factory=Tally)
    outside: Tally = field(default_factory=Tally)
    slots: dict[datetime, Tally] = field(default_factory=dict)


def breakdown(spec: CalendarSpec, calls: Iterable[CallTimes], seconds: int = TARGET_SECONDS) -> Breakdown:
    """Tally ``calls`` by half hour, inside and outside the calendar."""
    result = Breakdown()
    for call in calls:
        if not is_request(call):
            continue
        assert call.request_at is not None
        if is_open(spec, call.request_at):
            result.inside.add_call(call, seconds)
            slot = slot_of(spec, call.request_at)
            result.slots.setdefault(slot, Tally()).add_call(call, seconds)
        else:
            result.outside.add_call(call, seconds)
    return result


def slot_in_hours(spec: CalendarSpec, slot: datetime) -> bool:
    """Whether a half hour (by its start) lies in service hours; calendars open and close on half hours."""
    return is_open(spec, slot)


def meets_target(tally: Tally, target_percent: float) -> bool | None:
    """第七条 writes "> 90%": the target is met only strictly above it (90.0% is not met). None: no requests."""
    rate = tally.rate
    return None if rate is None else rate > target_percent
