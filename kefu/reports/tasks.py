"""Huey jobs: the rollup every 5 minutes, a nightly reconcile, the monthly mail, the outbox drain.

Crontabs are in UTC (Huey's default): 00:30 UTC on the 1st is 08:30 Beijing time.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from kefu.core.models import JobHeartbeat

from . import months, services


def _beat(name: str, every: int, summary: dict[str, Any]) -> None:
    JobHeartbeat.objects.update_or_create(
        name=name, defaults={"last_success_at": timezone.now(), "expected_every_seconds": every,
                             "last_summary": summary, "last_error": ""})


@db_periodic_task(crontab(minute="*/5"))
@lock_task("reports-rollup")
def reports_rollup() -> dict[str, int]:
    result = services.rollup_run(now=timezone.now())
    summary = {"cells": result.cells, "writes": result.writes}
    _beat("reports.rollup", 300, summary)
    return summary


@db_periodic_task(crontab(hour="19", minute="10"))
@lock_task("reports-rollup")
def reports_reconcile() -> dict[str, int]:
    """03:10 Beijing: recompute this month and last from scratch (catches anything the checkpoint missed)."""
    this = months.month_of(timezone.now())
    result = services.rollup_rebuild(month_list=[months.add_months(this, -1), this])
    summary = {"cells": result.cells, "writes": result.writes}
    _beat("reports.reconcile", 86400, summary)
    return summary


@db_periodic_task(crontab(day="1", hour="0", minute="30"))
@lock_task("reports-monthly-mail")
def reports_monthly_mail() -> dict[str, int]:
    now = timezone.now()
    created, result = services.mail_month_now(actor=None, month=months.previous_month(now), now=now)
    summary = {"created": created, **result.as_dict()}
    _beat("reports.monthly_mail", 31 * 86400, summary)
    return summary


@db_periodic_task(crontab(minute="*"))
@lock_task("reports-outbox")
def reports_outbox() -> dict[str, int]:
    """Retries: whatever is due in the outbox (nothing most minutes)."""
    return services.mail_send_due(now=timezone.now()).as_dict()
