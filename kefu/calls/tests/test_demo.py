"""The demo month: a day curve with two peaks, daily rates about 85-96%, abandons, idempotent re-run."""

from __future__ import annotations

import io
import random
from collections import Counter
from datetime import UTC, datetime

from kefu.calls import demo, selectors
from kefu.calls.models import Call
from kefu.core.scope import Scope
from kefu.demo.loader import DemoContext


def test_demo_month(db, monkeypatch):
    monkeypatch.setattr(demo, "HOTLINE_PER_DAY", 120)
    monkeypatch.setattr(demo, "DESK_PROVINCES", ())
    ctx = DemoContext(now=datetime(2026, 12, 3, 12, 0, tzinfo=UTC), rng=random.Random(7), out=io.StringIO())
    demo.load(ctx)
    calls = Call.objects.unscoped("t")
    total = calls.count()
    assert total > 2000
    hours = Counter(c.request_at.astimezone(demo.ZONE).hour for c in calls.filter(request_at__isnull=False))
    assert hours[10] > 2 * hours[12] and hours[15] > 2 * hours[12]  # the two peaks
    assert calls.filter(outcome="abandoned").exists() and calls.filter(outcome="ivr").exists()
    [hotline] = selectors.rate_figures(
        Scope.everything(),
        start=datetime(2026, 11, 3).date(),
        end=datetime(2026, 12, 2).date(),
        lines=list(selectors.lines_in_scope(Scope.everything()).filter(code="hotline")),
    )
    rates = [t.rate for t in hotline.days.values()]
    assert len(rates) == 30 and min(rates) > 80 and max(rates) < 100
    assert 85 <= hotline.total.rate <= 95
    demo.load(ctx)  # a second run adds nothing
    assert calls.count() == total
