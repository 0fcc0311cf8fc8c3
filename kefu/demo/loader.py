"""Demo data: every app that has a ``demo.py`` with ``load(ctx)`` contributes, in dependency order."""

from __future__ import annotations

import importlib
import importlib.util
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

DEMO_PASSWORD = "kefu-demo-2026"

STEPS = [
    "kefu.org.demo",
    "kefu.customers.demo",
    "kefu.sla.demo",
    "kefu.knowledge.demo",  # before the orders: consultations answered from it cite its articles
    "kefu.tickets.demo",
    "kefu.sla.demo_sweep",  # after the orders: replay the sweep (auto-accept, warnings, breaches)
    "kefu.knowledge.demo_after",  # common problems mined from the orders, knowledge-gap searches
    "kefu.chat.demo",  # a week of online-service conversations; online_agent on duty
    "kefu.calls.demo",  # a month of hotline and desk calls (answer rates 85-96% by day)
    "kefu.incidents.demo",  # after the orders and the knowledge base, before the report rollup
    "kefu.quality.demo",  # after the orders: a blocked and a warned reply, this month's sample, inspections
    "kefu.reports.demo",
]


@dataclass
class DemoContext:
    now: datetime
    rng: random.Random
    out: Any = field(default_factory=lambda: sys.stdout)
    password: str = DEMO_PASSWORD
    scale: int = 1
    shared: dict[str, Any] = field(default_factory=dict)

    def progress(self, step: str, done: int, total: int) -> None:
        if total <= 0:
            return
        if done == total or done % max(1, total // 10) == 0:
            self.out.write(f"\r  {step}: {done}/{total} ({done * 100 // total}%)")
            if done == total:
                self.out.write("\n")
            self.out.flush()


def load_all(*, out: Any = sys.stdout, seed: int = 20261127, scale: int = 1) -> None:
    ctx = DemoContext(now=timezone.now(), rng=random.Random(seed), out=out, scale=scale)
    for module_name in STEPS:
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        started = time.monotonic()
        out.write(f"· {module_name.split('.')[1]} …\n")
        module.load(ctx)
        out.write(f"  done in {time.monotonic() - started:.1f}s\n")
