"""The sweep: each warning, breach and expiry exactly once, under concurrency and interruption."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection

from kefu.core.models import AuditEvent, JobHeartbeat
from kefu.org.models import Province, Team
from kefu.sla import registry
from kefu.sla import services as sla
from kefu.sla.models import Clock, Notice
from kefu.sla.sweep import JOB_NAME, sweep, sweep_once

SH = ZoneInfo("Asia/Shanghai")
HOP = "sweeptest.hop"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=SH)  # Monday


class Killed(BaseException):
    """Stands for the process dying: not an Exception, so nothing catches it."""


@pytest.fixture
def handler_calls():
    calls: list[int] = []

    def handler(owner_id, clock, now):
        calls.append(owner_id)
        sla.clock_stop(owner_type=HOP, owner_id=owner_id, kind="accept", now=now)

    registry.on_expired(HOP, "accept", handler)
    yield calls
    registry._EXPIRED.pop((HOP, "accept"), None)


def _start_many(n: int, kind: str = "accept") -> None:
    team = Team.objects.get(code="hotline")
    bj = Province.objects.get(slug="bj")
    for i in range(n):
        sla.clock_start(
            owner_type=HOP, owner_id=i + 1, kind=kind, ticket_kind="complaint", team=team, province=bj, now=T0
        )


def _verbs(verb: str) -> int:
    return AuditEvent.objects.filter(verb=verb).count()


@pytest.mark.django_db
def test_warning_then_breach_once_each():
    _start_many(3, kind="resolve")  # due T0 + 24 h, warning at 18 h
    assert sweep(now=T0 + timedelta(hours=17)).warned == 0
    first = sweep(now=T0 + timedelta(hours=18))
    again = sweep(now=T0 + timedelta(hours=18, minutes=1))
    assert (first.warned, again.warned) == (3, 0)
    breach = sweep(now=T0 + timedelta(hours=24))
    assert (breach.warned, breach.breached) == (0, 3)
    assert sweep(now=T0 + timedelta(hours=30)).breached == 0
    assert _verbs("sla.clock.warned") == 3 and _verbs("sla.clock.breached") == 3
    assert Notice.objects.unscoped("test").filter(kind="warning").count() == 3
    assert Notice.objects.unscoped("test").filter(kind="breach").count() == 3
    assert Clock.objects.unscoped("test").filter(next_check_at__isnull=False).count() == 0


@pytest.mark.django_db
def test_expiry_runs_the_registered_handler_once(handler_calls):
    _start_many(2)
    sweep(now=T0 + timedelta(hours=2))
    sweep(now=T0 + timedelta(hours=3))
    assert sorted(handler_calls) == [1, 2]
    assert _verbs("sla.clock.expired") == 2
    clocks = Clock.objects.unscoped("test").filter(owner_type=HOP)
    assert {(c.status, c.outcome) for c in clocks} == {("stopped", "late")}


@pytest.mark.django_db
def test_a_failing_handler_rolls_back_only_its_clock_and_is_retried():
    calls: list[int] = []

    def flaky(owner_id, clock, now):
        calls.append(owner_id)
        if owner_id == 1 and calls.count(1) == 1:
            raise RuntimeError("tickets said no")

    registry.on_expired(HOP, "accept", flaky)
    try:
        _start_many(2)
        first = sweep(now=T0 + timedelta(hours=2))
        assert (first.handled, first.failed) == (1, 1)
        assert _verbs("sla.clock.expired") == 1
        second = sweep(now=T0 + timedelta(hours=2, minutes=1))
        assert (second.handled, second.failed) == (1, 0)
        assert sorted(calls) == [1, 1, 2]
        assert _verbs("sla.clock.expired") == 2
    finally:
        registry._EXPIRED.pop((HOP, "accept"), None)


@pytest.mark.django_db
def test_paused_and_stopped_clocks_are_not_swept():
    _start_many(3, kind="resolve")
    sla.clock_pause(owner_type=HOP, owner_id=1, kind="resolve", now=T0 + timedelta(hours=1))
    sla.clock_stop(owner_type=HOP, owner_id=2, kind="resolve", now=T0 + timedelta(hours=1))
    result = sweep(now=T0 + timedelta(days=3))
    assert result.breached == 1


@pytest.mark.django_db
def test_heartbeat_and_command():
    _start_many(1)
    call_command("sla_sweep")
    beat = JobHeartbeat.objects.get(name=JOB_NAME)
    assert beat.last_success_at is not None and beat.last_summary["breached"] >= 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sweep_killed_after_k_of_n_finishes_on_restart_without_repeats():
    n, k = 7, 3
    calls: list[int] = []

    def dying(owner_id, clock, now):
        if len(calls) == k:
            raise Killed
        calls.append(owner_id)
        sla.clock_stop(owner_type=HOP, owner_id=owner_id, kind="accept", now=now)

    registry.on_expired(HOP, "accept", dying)
    try:
        _start_many(n)
        with pytest.raises(Killed):
            sweep_once(now=T0 + timedelta(hours=3), batch_size=1)
        assert _verbs("sla.clock.expired") == k  # the open batch rolled back
        registry.on_expired(HOP, "accept", lambda owner_id, clock, now: calls.append(owner_id))
        sweep(now=T0 + timedelta(hours=3))
        sweep(now=T0 + timedelta(hours=4))
        assert sorted(calls) == list(range(1, n + 1))
        assert _verbs("sla.clock.expired") == n
    finally:
        registry._EXPIRED.pop((HOP, "accept"), None)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sweeps_at_once_do_each_outcome_once(is_postgres):
    if not is_postgres:
        pytest.skip("concurrent sweeps need PostgreSQL row locks (SQLite serialises them)")
    n = 60
    calls: list[int] = []
    lock = threading.Lock()

    def handler(owner_id, clock, now):
        with lock:
            calls.append(owner_id)

    registry.on_expired(HOP, "accept", handler)
    try:
        _start_many(n)
        _start_many(n, kind="resolve")
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def run() -> None:
            try:
                barrier.wait()
                sweep_once(now=T0 + timedelta(hours=19), batch_size=5)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert sorted(calls) == list(range(1, n + 1))
        assert _verbs("sla.clock.expired") == n
        assert _verbs("sla.clock.warned") == n
        assert Notice.objects.unscoped("test").count() == 2 * n
    finally:
        registry._EXPIRED.pop((HOP, "accept"), None)


@pytest.mark.django_db(transaction=True)
def test_a_handler_with_side_effects_commits_synchronously(is_postgres, monkeypatch):
    if not is_postgres:
        pytest.skip("synchronous_commit is a PostgreSQL setting")
    from django.db import transaction

    from kefu.sla import sweep as sweep_mod

    seen: list[str] = []

    def show() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    def handler(owner_id, clock, now):
        seen.append(f"{owner_id} runs: {show()}")
        if owner_id == 2:
            transaction.on_commit(lambda: seen.append("mail sent"))

    original = sweep_mod._durable_if_announced

    def spy():
        original()
        seen.append(f"commits: {show()}")  # what the handler's transaction commits with

    monkeypatch.setattr(sweep_mod, "_durable_if_announced", spy)
    registry.on_expired(HOP, "accept", handler)
    try:
        _start_many(2)
        sweep_once(now=T0 + timedelta(hours=3))
    finally:
        registry._EXPIRED.pop((HOP, "accept"), None)
    # Both run relaxed; only the one that announces something (on_commit) commits durably, before announcing it.
    assert seen == ["1 runs: off", "commits: off", "2 runs: off", "commits: on", "mail sent"]
