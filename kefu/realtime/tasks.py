from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import events_prune


@db_periodic_task(crontab(minute="17"))
def realtime_prune() -> int:
    """Hourly: stored push events older than the retention window go (sockets resume within it)."""
    return events_prune()
