"""Demo step after the work orders: replay the sweep over the demo's past so outcomes carry their real times.

The tickets demo opens orders over the past weeks with explicit timestamps. A
worker would have swept every minute meanwhile; this step sweeps once an hour
from the first outcome owed up to ``ctx.now`` (then once at ``ctx.now``), so
accept clocks that ran out are auto-accepted, warnings and breaches are
recorded at the hour they fell due, and the heartbeat shows a recent run.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .models import Clock
from .sweep import SweepResult, sweep, sweep_once


def load(ctx: Any) -> None:
    first = (
        Clock.objects.unscoped("demo replay of the sweep")
        .filter(next_check_at__isnull=False, status=Clock.Status.RUNNING)
        .order_by("next_check_at")
        .values_list("next_check_at", flat=True)
        .first()
    )
    total = SweepResult()
    if first is not None and first < ctx.now:
        t = first.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        steps = max(1, int((ctx.now - t).total_seconds() // 3600) + 1)
        done = 0
        while t < ctx.now:
            _add(total, sweep_once(now=t))
            t += timedelta(hours=1)
            done += 1
            ctx.progress("sla sweep replay", min(done, steps), steps)
    _add(total, sweep(now=ctx.now))
    ctx.out.write(
        f"  sla: {total.warned} warned, {total.breached} breached, "
        f"{total.handled} auto-accepted, {total.failed} failed\n"
    )


def _add(total: SweepResult, one: SweepResult) -> None:
    total.warned += one.warned
    total.breached += one.breached
    total.handled += one.handled
    total.failed += one.failed
