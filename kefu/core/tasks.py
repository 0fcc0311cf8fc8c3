"""Huey jobs of the core: the one outbox, every minute."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import outbox
from .jobs import periodic_job


@db_periodic_task(crontab(minute="*"))
@periodic_job("core.outbox", every=60)
def core_outbox() -> dict[str, int]:
    """Send whatever mail is due (new rows normally leave right after their commit; this is the retry path)."""
    return outbox.send_due(now=timezone.now()).as_dict()
