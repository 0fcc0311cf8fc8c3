"""Clock services: start, transfer, return, pause, reopen (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kefu.core.models import AuditEvent
from kefu.org.models import Province, Team
from kefu.sla import services as sla
from kefu.sla.models import Clock

SH = ZoneInfo("Asia/Shanghai")
HOP = "tests.hop"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    # 2026-11-02 is a Monday with no holiday around it.
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


@pytest.fixture
def hotline(db) -> Team:
    return Team.objects.get(code="hotline")


@pytest.fixture
def desk_bj(db) -> Team:
    return Team.objects.get(code="desk_bj")


@pytest.fixture
def bj(db) -> Province:
    return Province.objects.get(slug="bj")


def start(owner_id: int, kind: str, team: Team, province: Province, now: datetime) -> Clock:
    clock = sla.clock_start(
        owner_type=HOP,
        owner_id=owner_id,
        kind=kind,
        ticket_kind="complaint",
        team=team,
        province=province,
        now=now,
    )
    assert clock is not None
    return clock


def test_accept_clock_counts_two_service_hours(hotline, bj):
    clock = start(1, "accept", hotline, bj, at(2, 19, 30))
    # 30 minutes before closing, 90 minutes after opening the next day.
    assert clock.due_at == at(3, 9, 30)
    assert clock.warn_at == at(3, 9, 0)
    assert clock.next_check_at == clock.warn_at
    assert clock.policy.code == "complaint-hotline-accept"
    assert AuditEvent.objects.filter(verb="sla.clock.started", target_id=str(clock.pk)).count() == 1


def test_resolve_clock_counts_natural_hours(hotline, desk_bj, bj):
    assert start(1, "resolve", hotline, bj, at(2, 19, 30)).due_at == at(3, 19, 30)
    assert start(2, "resolve", desk_bj, bj, at(2, 19, 30)).due_at == at(4, 19, 30)


def test_no_policy_means_no_clock(desk_bj, bj):
    assert (
        sla.clock_start(
            owner_type=HOP,
            owner_id=1,
            kind="accept",
            ticket_kind="complaint",
            team=desk_bj,
            province=bj,
            now=at(2, 9),
        )
        is None
    )
    assert (
        sla.clock_start(
            owner_type=HOP,
            owner_id=1,
            kind="resolve",
            ticket_kind="consultation",
            team=desk_bj,
            province=bj,
            now=at(2, 9),
        )
        is None
    )
    assert Clock.objects.unscoped("test").count() == 0


def test_start_twice_returns_the_same_clock(hotline, bj):
    first = start(1, "accept", hotline, bj, at(2, 9))
    again = start(1, "accept", hotline, bj, at(2, 10))
    assert again.pk == first.pk and again.due_at == first.due_at


def test_stop_in_time_is_met_and_after_due_is_late(hotline, bj):
    start(1, "resolve", hotline, bj, at(2, 9))
    start(2, "resolve", hotline, bj, at(2, 9))
    met = sla.clock_stop(owner_type=HOP, owner_id=1, kind="resolve", now=at(3, 9))
    late = sla.clock_stop(owner_type=HOP, owner_id=2, kind="resolve", now=at(3, 9, 1))
    assert (met.outcome, met.status, met.next_check_at) == ("met", "stopped", None)
    assert late.outcome == "late"
    assert late.remaining_seconds == -60


def test_transfer_closes_old_hop_and_charges_new_team(hotline, desk_bj, bj):
    start(1, "resolve", desk_bj, bj, at(2, 9))
    old = sla.clock_stop(owner_type=HOP, owner_id=1, kind="resolve", now=at(2, 11), handed_over=True)
    new = start(2, "resolve", hotline, bj, at(2, 11))
    assert old.outcome == "handed_over"
    assert new.team == hotline and new.due_at == at(3, 11)


def test_handover_after_the_deadline_stays_late(hotline, bj):
    start(1, "resolve", hotline, bj, at(2, 9))
    old = sla.clock_stop(owner_type=HOP, owner_id=1, kind="resolve", now=at(3, 10), handed_over=True)
    assert old.outcome == "late"


def test_return_within_two_hours_stops_the_accept_clock_met(hotline, bj):
    start(1, "accept", hotline, bj, at(2, 9))
    clock = sla.clock_stop(owner_type=HOP, owner_id=1, kind="accept", now=at(2, 10, 59), handed_over=True)
    assert clock.outcome == "handed_over" and clock.remaining_seconds == 60


def test_pause_keeps_the_remainder_in_service_hours(hotline, bj):
    start(1, "accept", hotline, bj, at(2, 19))  # due 09:00 next day
    paused = sla.clock_pause(owner_type=HOP, owner_id=1, kind="accept", now=at(2, 19, 30))
    assert paused.status == "paused" and paused.remaining_seconds == 90 * 60
    assert paused.due_at is None and paused.next_check_at is None
    resumed = sla.clock_resume(owner_type=HOP, owner_id=1, kind="accept", now=at(4, 12))
    assert resumed.status == "running" and resumed.due_at == at(4, 13, 30)


def test_pause_keeps_the_remainder_in_natural_hours(hotline, bj):
    start(1, "resolve", hotline, bj, at(2, 9))
    sla.clock_pause(owner_type=HOP, owner_id=1, kind="resolve", now=at(2, 15))
    resumed = sla.clock_resume(owner_type=HOP, owner_id=1, kind="resolve", now=at(5, 9))
    assert resumed.due_at == at(6, 3)


def test_reopen_resumes_with_the_remainder_not_a_new_budget(hotline, bj):
    start(1, "resolve", hotline, bj, at(2, 9))
    sla.clock_stop(owner_type=HOP, owner_id=1, kind="resolve", now=at(2, 19))
    reopened = sla.clock_resume(owner_type=HOP, owner_id=1, kind="resolve", now=at(10, 9))
    assert reopened.status == "running" and reopened.outcome == ""
    assert reopened.due_at == at(10, 23)
    assert AuditEvent.objects.filter(verb="sla.clock.reopened").count() == 1


def test_follow_status_pauses_on_the_policy_statuses(hotline, bj):
    start(1, "resolve", hotline, bj, at(2, 9))
    start(1, "accept", hotline, bj, at(2, 9))
    changed = sla.clock_follow_status(owner_type=HOP, owner_id=1, status="waiting_customer", now=at(2, 10))
    assert [c.kind for c in changed] == ["resolve"]
    changed = sla.clock_follow_status(owner_type=HOP, owner_id=1, status="in_progress", now=at(2, 12))
    assert [c.kind for c in changed] == ["resolve"]
    assert changed[0].due_at == at(3, 11)


def test_clocks_for_lists_nearest_deadline_first(hotline, bj):
    start(1, "resolve", hotline, bj, at(2, 9))
    start(1, "accept", hotline, bj, at(2, 9))
    infos = sla.clocks_for(HOP, [1], now=at(2, 10, 45))
    assert [i.clock.kind for i in infos] == ["accept", "resolve"]
    assert infos[0].state == "at_risk" and infos[0].service_seconds_left == 15 * 60
    assert infos[1].state == "running"
    assert infos[1].service_seconds_left == int(timedelta(hours=9, minutes=15 + 60).total_seconds())


@pytest.mark.parametrize("server_tz", ["UTC", "America/New_York"])
def test_deadlines_do_not_depend_on_the_server_time_zone(settings, server_tz, hotline, bj):
    settings.TIME_ZONE = server_tz
    clock = start(1, "accept", hotline, bj, at(2, 19, 30))
    clock.refresh_from_db()
    assert clock.due_at == at(3, 9, 30)
