"""Huey: the SLA sweep every minute."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from .sweep import sweep


@db_periodic_task(crontab(minute="*"))
@lock_task("sla-sweep")
def sla_sweep() -> dict[str, int]:
    # The lock only saves work when the worker is slow; correctness never
    # depends on it (the sweep is safe to run twice at once).
    return sweep().as_dict()
