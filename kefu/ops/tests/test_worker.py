"""kefu_worker: one scheduler per installation, and a clear refusal for an unreachable Redis."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from kefu.core.models import JobLease
from kefu.ops.management.commands import kefu_worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def consumer(monkeypatch):
    runs: list[dict] = []
    monkeypatch.setattr(kefu_worker, "call_command", lambda name, **kw: runs.append({"name": name, **kw}))
    monkeypatch.delenv("HUEY_REDIS_URL", raising=False)
    return runs


def test_workers_consume_without_scheduling_and_the_scheduler_schedules(consumer):
    call_command("kefu_worker", workers=3)
    call_command("kefu_worker", scheduler=True, workers=1)
    assert consumer == [
        {"name": "run_huey", "workers": 3, "periodic": False, "verbose": False},
        {"name": "run_huey", "workers": 1, "periodic": True, "verbose": False},
    ]
    assert JobLease.objects.get(name=kefu_worker.SCHEDULER_LEASE).holder == ""  # released on exit


def test_a_second_scheduler_is_refused_while_the_first_lives(consumer):
    live = f"{socket.gethostname()}:{os.getppid()}:first"
    JobLease.objects.create(
        name=kefu_worker.SCHEDULER_LEASE, holder=live, expires_at=timezone.now() + timedelta(seconds=60)
    )
    with pytest.raises(CommandError) as refused:
        call_command("kefu_worker", scheduler=True)
    assert "已有调度进程" in str(refused.value) and "already running" in str(refused.value)
    assert consumer == [] and JobLease.objects.get(name=kefu_worker.SCHEDULER_LEASE).holder == live


def test_a_worker_with_a_wrong_redis_url_stops_with_a_clear_message(consumer, monkeypatch):
    monkeypatch.setenv("HUEY_REDIS_URL", "redis://127.0.0.1:1/0")
    with pytest.raises(CommandError) as refused:
        call_command("kefu_worker")
    assert "无法连接 Redis" in str(refused.value) and "cannot reach Redis" in str(refused.value)
    assert consumer == []
