"""The demo step replays the sweep over past clocks with their real times."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from kefu.core.models import AuditEvent, JobHeartbeat
from kefu.org.models import Province, Team
from kefu.sla import demo_sweep
from kefu.sla import services as sla
from kefu.sla.sweep import JOB_NAME

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.django_db
def test_demo_sweep_records_outcomes_at_the_hour_they_fell_due():
    now = datetime(2026, 11, 20, 12, tzinfo=SH)
    hotline, bj = Team.objects.get(code="hotline"), Province.objects.get(slug="bj")
    for n, started in enumerate(
        [now - timedelta(days=3), now - timedelta(hours=19), now - timedelta(hours=1)], 1
    ):
        sla.clock_start(
            owner_type="demo.hop",
            owner_id=n,
            kind="resolve",
            ticket_kind="complaint",
            team=hotline,
            province=bj,
            now=started,
        )
    out = io.StringIO()
    # A stand-in for kefu.demo.loader.DemoContext (sla may not import kefu.demo).
    demo_sweep.load(SimpleNamespace(now=now, out=out, progress=lambda step, done, total: None))
    assert "2 warned, 1 breached" in out.getvalue()
    breach = AuditEvent.objects.get(verb="sla.clock.breached")
    assert breach.at == now - timedelta(days=2)  # due exactly on the hour, swept at that hour
    assert JobHeartbeat.objects.get(name=JOB_NAME).last_success_at is not None
