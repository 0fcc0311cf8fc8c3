"""Huey jobs: scheduled publication (every minute), loading reminders (daily), common-problem mining (daily)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*"))
def kb_publish_due() -> int:
    from .services import publish_due

    return publish_due()


@db_periodic_task(crontab(minute="30", hour="9"))
def kb_remind_loads() -> int:
    from .services import receipts_remind

    return receipts_remind()


@db_periodic_task(crontab(minute="15", hour="2"))
def kb_mine_problems() -> dict[str, int]:
    from .mining import mine

    return mine()
