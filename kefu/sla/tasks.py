"""Huey: the SLA sweep every minute."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kefu.core.jobs import periodic_job

from .sweep import JOB_NAME, sweep


@db_periodic_task(crontab(minute="*"))
@periodic_job(JOB_NAME, every=60, beat=False)
def sla_sweep() -> dict[str, int]:
    # The lease only saves work when the worker is slow; correctness never
    # depends on it (the sweep is safe to run twice at once). It ends with its
    # holder, so a worker killed mid-sweep does not stop later sweeps.
    # beat=False: sweep() keeps its own heartbeat (the command and the demo run it too).
    return sweep().as_dict()
