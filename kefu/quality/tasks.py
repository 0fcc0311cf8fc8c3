"""Huey job: the month-end sample (每月抽检), drawn once per month for every province.

Runs every day (a missed first of the month is caught up the next day); the draw itself is
recorded in ``SamplingRun``, so later runs of the same month do nothing.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kefu.core.jobs import periodic_job


@db_periodic_task(crontab(minute="20", hour="1"))
@periodic_job("quality.sample_month_end", every=86400, ttl=3600)
def quality_sample_month_end() -> dict[str, int]:
    from .services import sample_month_end

    created = sample_month_end()
    return {"created": created or 0, "skipped": int(created is None)}
