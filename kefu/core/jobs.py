"""Periodic jobs: one lease that cannot outlive its holder, one heartbeat that records errors.

Every periodic Huey task is wrapped by :func:`periodic_job`::

    @db_periodic_task(crontab(minute="*"))
    @periodic_job("reports.rollup", every=300)
    def reports_rollup() -> dict[str, int]: ...

Why not Huey's ``lock_task``: its key stays in Huey's storage until the task
returns, so a worker killed with SIGKILL mid-run left it behind and every later
run was skipped ("unable to acquire lock") until someone flushed the locks by
hand. A :class:`~kefu.core.models.JobLease` row ends by itself instead:

- it expires ``ttl`` seconds after it was taken (default: the job's period), so
  a dead holder on another machine blocks at most one period;
- a holder on this host whose process no longer exists loses it at once, so a
  worker restarted on the same machine runs the very next tick.

Correctness never depends on the lease (the jobs are safe to run twice at once:
the sweep locks its clocks, the rollup is idempotent, mail is deduplicated by the
outbox); the lease only keeps two workers from doing the same work.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .models import JobHeartbeat, JobLease

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def holder_id() -> str:
    """``host:pid:nonce``: unique per acquisition, and tells whether the holder's process still lives."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def holder_is_dead(holder: str) -> bool:
    """True only when the holder ran on this host and its process is gone (never guesses about other hosts)."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    # A SIGKILLed child that its parent has not reaped yet still answers kill(pid, 0).
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def lease_acquire(name: str, *, ttl: float, holder: str) -> bool:
    """Take the lease ``name`` for ``ttl`` seconds if it is free, expired or held by a dead process."""
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                JobLease.objects.get_or_create(name=name)
        except IntegrityError:  # another process created it first
            pass
        taken = JobLease.objects.filter(
            Q(name=name) & (Q(holder="") | Q(expires_at__lte=now) | Q(expires_at__isnull=True))
        ).update(holder=holder, acquired_at=now, expires_at=now + timedelta(seconds=ttl))
        if taken:
            return True
        current = JobLease.objects.filter(name=name).values_list("holder", flat=True).first() or ""
        if current and holder_is_dead(current):
            log.warning("job %s: lease held by dead process %s, taking it over", name, current)
            return bool(
                JobLease.objects.filter(name=name, holder=current).update(
                    holder=holder, acquired_at=now, expires_at=now + timedelta(seconds=ttl)
                )
            )
    return False


def lease_release(name: str, *, holder: str) -> None:
    JobLease.objects.filter(name=name, holder=holder).update(holder="", expires_at=timezone.now())


@contextmanager
def lease(name: str, *, ttl: float) -> Iterator[bool]:
    """``with lease("sla.sweep", ttl=60) as mine:``: ``mine`` says whether this process may run the job."""
    holder = holder_id()
    mine = lease_acquire(name, ttl=ttl, holder=holder)
    try:
        yield mine
    finally:
        if mine:
            lease_release(name, holder=holder)


def _beat_started(name: str, every: int) -> None:
    JobHeartbeat.objects.update_or_create(
        name=name, defaults={"last_started_at": timezone.now(), "expected_every_seconds": every}
    )


def _beat_done(name: str, result: Any) -> None:
    summary = result if isinstance(result, dict) else {"result": result}
    JobHeartbeat.objects.filter(name=name).update(
        last_success_at=timezone.now(), last_summary=summary, last_error=""
    )


def _beat_failed(name: str) -> None:
    JobHeartbeat.objects.filter(name=name).update(last_error=traceback.format_exc()[-4000:])


def periodic_job(
    name: str, *, every: int, ttl: float | None = None, beat: bool = True, lease_name: str | None = None
) -> Callable[[Callable[P, R]], Callable[P, R | dict[str, str]]]:
    """Run the job under the lease ``name``; record start, success (with its summary) and errors.

    ``every`` is the job's period in seconds (the heartbeat calls a job late after
    three periods; the lease lives one period unless ``ttl`` says otherwise).
    ``beat=False`` for a job whose body keeps its own heartbeat (the SLA sweep,
    which its management command and the demo loader also run). Jobs that must
    not overlap each other share a ``lease_name``.
    A run that finds the lease held returns ``{"skipped": "<holder>"}``.
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R | dict[str, str]]:
        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R | dict[str, str]:
            key = lease_name or name
            with lease(key, ttl=ttl or every) as mine:
                if not mine:
                    held_by = JobLease.objects.filter(name=key).values_list("holder", flat=True).first()
                    log.info("job %s skipped: lease %s held by %s", name, key, held_by)
                    return {"skipped": held_by or ""}
                if beat:
                    _beat_started(name, every)
                try:
                    result = fn(*args, **kwargs)
                except Exception:
                    if beat:
                        _beat_failed(name)
                    raise
                if beat:
                    _beat_done(name, result)
                return result

        return run

    return decorate
