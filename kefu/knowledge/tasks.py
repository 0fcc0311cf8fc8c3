"""Huey jobs: scheduled publication (every minute), loading reminders (daily), common-problem mining (daily).

Each runs under ``kefu.core.jobs.periodic_job``: one lease, and a heartbeat that
records errors, so administrators see a job that stopped.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kefu.core.jobs import periodic_job


@db_periodic_task(crontab(minute="*"))
@periodic_job("kb_publish_due", every=60)
def kb_publish_due() -> int:
    from .services import publish_due

    return int(publish_due())


@db_periodic_task(crontab(minute="30", hour="1"))
@periodic_job("kb_remind_loads", every=86400, ttl=3600)
def kb_remind_loads() -> int:
    from .services import receipts_remind

    return int(receipts_remind())


@db_periodic_task(crontab(minute="15", hour="18"))
@periodic_job("kb_mine_problems", every=86400, ttl=3600)
def kb_mine_problems() -> dict[str, int]:
    from .mining import mine

    return dict(mine())
