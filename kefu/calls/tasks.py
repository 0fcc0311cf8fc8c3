"""Periodic jobs: the rolling-hour alert check and the pick-up folder for PBX files."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kefu.core.jobs import periodic_job

from . import pickup, services


@db_periodic_task(crontab(minute="*/5"))
@periodic_job("calls.alerts", every=300)
def calls_alerts() -> dict[str, Any]:
    """Every 5 minutes: a line whose rolling hour is under target raises its alert (calls may have stopped)."""
    return {"alerts": services.alerts_check(now=timezone.now())}


@db_periodic_task(crontab(minute="*"))
@periodic_job("calls.pickup", every=60)
def calls_pickup() -> dict[str, Any]:
    """Every minute: files dropped in ``KEFU_CALLS_INBOX/<source>/`` are ingested and moved to ``done/``."""
    return pickup.pickup_all()


@db_periodic_task(crontab(minute="*"))
@periodic_job("calls.rollups", every=60)
def calls_rollups() -> dict[str, Any]:
    """Every minute: the webhook's half-hour deltas folded into the rollups (readers add any left)."""
    return {"folded": services.rollups_fold()}
