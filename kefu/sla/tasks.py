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


@db_periodic_task(crontab(hour="20", minute="40"))
@periodic_job("sla.holidays", every=86400, ttl=3600)
def sla_holidays() -> dict[str, int]:
    """04:40 Beijing: holidays and 调休 from chinese_calendar into the table; alarm when next year is missing."""
    from django.utils import timezone

    from kefu.org.models import Team

    from . import holiday_source

    today = timezone.localdate()
    result = holiday_source.refresh(since_year=today.year)
    emails = [e for e in Team.objects.filter(kind=Team.Kind.HQ_SERVICE).values_list("email", flat=True) if e]
    missing = holiday_source.alert_if_missing(today, emails)
    return {**result, "missing_year": missing or 0}
