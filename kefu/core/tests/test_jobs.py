"""Periodic jobs: a lease that ends with its holder, and a heartbeat that records errors."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from kefu.core import jobs
from kefu.core.models import JobHeartbeat, JobLease

pytestmark = pytest.mark.django_db


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _holder(pid: int, host: str | None = None) -> str:
    return f"{host or socket.gethostname()}:{pid}:abc"


def test_a_free_lease_is_taken_and_a_live_holder_keeps_it():
    me = jobs.holder_id()
    assert jobs.lease_acquire("j", ttl=60, holder=me)
    assert not jobs.lease_acquire("j", ttl=60, holder=jobs.holder_id())
    assert JobLease.objects.get(name="j").holder == me
    jobs.lease_release("j", holder=me)
    assert jobs.lease_acquire("j", ttl=60, holder=jobs.holder_id())


def test_a_lease_of_a_dead_process_on_this_host_is_taken_over_at_once():
    dead = _holder(_dead_pid())
    JobLease.objects.create(name="j", holder=dead, expires_at=timezone.now() + timedelta(hours=1))
    me = jobs.holder_id()
    assert jobs.lease_acquire("j", ttl=60, holder=me)
    assert JobLease.objects.get(name="j").holder == me


def test_a_lease_held_on_another_host_waits_for_its_expiry():
    other = _holder(_dead_pid(), host="some-other-host")
    lease = JobLease.objects.create(name="j", holder=other, expires_at=timezone.now() + timedelta(seconds=30))
    assert not jobs.lease_acquire("j", ttl=60, holder=jobs.holder_id())
    JobLease.objects.filter(pk=lease.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert jobs.lease_acquire("j", ttl=60, holder=jobs.holder_id())


def test_releasing_needs_the_same_holder():
    me = jobs.holder_id()
    jobs.lease_acquire("j", ttl=60, holder=me)
    jobs.lease_release("j", holder=jobs.holder_id())
    assert JobLease.objects.get(name="j").holder == me


def test_periodic_job_beats_on_success_records_errors_and_skips_when_held():
    @jobs.periodic_job("demo.job", every=120)
    def ok() -> dict[str, int]:
        return {"n": 3}

    @jobs.periodic_job("demo.job", every=120)
    def broken() -> None:
        raise RuntimeError("boom")

    assert ok() == {"n": 3}
    beat = JobHeartbeat.objects.get(name="demo.job")
    assert (beat.last_summary, beat.last_error, beat.expected_every_seconds) == ({"n": 3}, "", 120)
    assert beat.last_success_at is not None
    first_success = beat.last_success_at

    with pytest.raises(RuntimeError):
        broken()
    beat.refresh_from_db()
    assert "RuntimeError: boom" in beat.last_error and beat.last_success_at == first_success
    assert JobLease.objects.get(name="demo.job").holder == ""  # released after the error too

    JobLease.objects.filter(name="demo.job").update(
        holder=_holder(1), expires_at=timezone.now() + timedelta(minutes=1)
    )
    assert ok() == {"skipped": _holder(1)}


def test_jobs_sharing_a_lease_name_exclude_each_other():
    runs = []

    @jobs.periodic_job("b.job", every=60, lease_name="shared")
    def b() -> str:
        runs.append("b")
        return "b"

    @jobs.periodic_job("a.job", every=60, lease_name="shared")
    def a() -> tuple[object, str]:
        runs.append("a")
        return b(), JobLease.objects.get(name="shared").holder

    inner, holder = a()
    assert holder and inner == {"skipped": holder}
    assert runs == ["a"]
