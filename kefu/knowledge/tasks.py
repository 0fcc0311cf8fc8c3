"""Huey jobs: scheduled publication (every minute), loading reminders (daily), common-problem mining (daily).

Each records a heartbeat so administrators see a job that stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kefu.core.models import JobHeartbeat


def _beat(name: str, every: int, fn: Callable[[], Any]) -> Any:
    JobHeartbeat.objects.update_or_create(name=name, defaults={"last_started_at": timezone.now(),
                                                              "expected_every_seconds": every})
    try:
        result = fn()
    except Exception as exc:
        JobHeartbeat.objects.filter(name=name).update(last_error=repr(exc)[:2000])
        raise
    summary = result if isinstance(result, dict) else {"count": result}
    JobHeartbeat.objects.filter(name=name).update(last_success_at=timezone.now(), last_error="", last_summary=summary)
    return result


@db_periodic_task(crontab(minute="*"))
def kb_publish_due() -> int:
    from .services import publish_due

    return int(_beat("kb_publish_due", 60, publish_due))


@db_periodic_task(crontab(minute="30", hour="1"))
def kb_remind_loads() -> int:
    from .services import receipts_remind

    return int(_beat("kb_remind_loads", 86400, receipts_remind))


@db_periodic_task(crontab(minute="15", hour="18"))
def kb_mine_problems() -> dict[str, int]:
    from .mining import mine

    return dict(_beat("kb_mine_problems", 86400, mine))
