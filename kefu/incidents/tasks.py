"""Huey jobs: bulletin reminders, the auto-link rules and the outbox retries, every minute."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from . import mail, services


@db_periodic_task(crontab(minute="*"))
@lock_task("incidents-minute")
def incidents_minute() -> dict[str, int]:
    now = timezone.now()
    return {
        "reminded": services.receipts_remind(now=now),
        "auto_linked": services.autolink_run(now=now),
        "mails_sent": mail.send_due(now=now),
    }
