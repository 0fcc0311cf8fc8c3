"""Huey jobs: the rollup every 5 minutes, a nightly reconcile, the monthly mail, the outbox drain.

Crontabs are in UTC (Huey's default): 00:30 UTC on the 1st is 08:30 Beijing time.
"""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kefu.core.jobs import periodic_job

from . import months, services


@db_periodic_task(crontab(minute="*/5"))
@periodic_job("reports.rollup", every=300, lease_name="reports.rollup")
def reports_rollup() -> dict[str, int]:
    result = services.rollup_run(now=timezone.now())
    return {"cells": result.cells, "writes": result.writes}


@db_periodic_task(crontab(hour="19", minute="10"))
@periodic_job("reports.reconcile", every=86400, ttl=3600, lease_name="reports.rollup")
def reports_reconcile() -> dict[str, int]:
    """03:10 Beijing: recompute this month and last from scratch (catches anything the checkpoint missed)."""
    this = months.month_of(timezone.now())
    result = services.rollup_rebuild(month_list=[months.add_months(this, -1), this])
    return {"cells": result.cells, "writes": result.writes}


@db_periodic_task(crontab(day="1", hour="0", minute="30"))
@periodic_job("reports.monthly_mail", every=31 * 86400, ttl=3600)
def reports_monthly_mail() -> dict[str, int]:
    now = timezone.now()
    created, result = services.mail_month_now(actor=None, month=months.previous_month(now), now=now)
    return {"created": created, **result.as_dict()}


@db_periodic_task(crontab(minute="*"))
@periodic_job("reports.outbox", every=60)
def reports_outbox() -> dict[str, int]:
    """Retries: whatever is due in the outbox (nothing most minutes)."""
    return services.mail_send_due(now=timezone.now()).as_dict()
