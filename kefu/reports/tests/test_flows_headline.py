"""Issue #14 items 6 and 13: the on-time headline per rule group, rate axes from 0, the current month shown."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from conftest import login_client
from kefu.core.scope import Scope
from kefu.org.models import Province, Team
from kefu.reports import dashboard, service_level
from kefu.sla import charts as sla_charts
from kefu.sla import rates as sla_rates
from kefu.sla import services as sla

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def _clock(owner_id: int, team_code: str, province: Province, start: datetime, stop: datetime) -> None:
    team = Team.objects.get(code=team_code)
    sla.clock_start(
        owner_type="test.order",
        owner_id=owner_id,
        kind="resolve",
        ticket_kind="complaint",
        team=team,
        province=province,
        now=start,
    )
    sla.clock_stop(owner_type="test.order", owner_id=owner_id, kind="resolve", now=stop)


@pytest.fixture
def js_month():
    """Jiangsu, October: the desk 2 of 5 on time (40%), the hotline's clocks for Jiangsu 3 of 3."""
    js = Province.objects.get(slug="js")
    start = datetime(2026, 10, 5, 9, tzinfo=SH)
    for i in range(2):
        _clock(i, "desk_js", js, start, start + timedelta(hours=1))
    for i in range(2, 5):
        _clock(i, "desk_js", js, start, start + timedelta(days=3))  # past 48 h
    for i in range(5, 8):
        _clock(i, "hotline", js, start, start + timedelta(hours=2))
    return js


def test_the_province_headline_is_the_desks_48h_rate_and_the_hotline_is_apart(js_month):
    report = service_level.service_level(Scope.provinces([js_month.pk]), date(2026, 10, 1))
    heads = {h.key: (h.met, h.late, h.rate) for h in report.headline}
    assert heads == {"province": (2, 3, 40.0), "national": (3, 0, 100.0)}
    assert report.overall.rate == 62.5  # the old headline: both added up


def test_the_sla_rates_page_headline_keeps_the_groups_apart(js_month, lead_js, client):
    now = datetime(2026, 10, 31, 12, tzinfo=SH)
    rows = {
        r.key: r.rate
        for r in sla_rates.headline(Scope.provinces([js_month.pk]), month=date(2026, 10, 1), now=now)
    }
    assert rows == {"province": 40.0, "national": 100.0}
    html = login_client(client, lead_js).get("/reports/?month_from=2026-10&month_to=2026-10").content.decode()
    assert 'data-testid="rate-province"' in html and "40.0%" in html
    api = client.get("/api/reports/service-level?month=2026-10").json()
    assert {h["key"]: h["rate"] for h in api["headline"]} == {"province": 40.0, "national": 100.0}


def test_rate_axes_start_at_zero():
    assert sla_charts.axis_min([40.0, 99.0]) == 0.0
    row = sla_rates.RateRow(
        key=1,
        label="x",
        counts=sla_rates.Counts(2, 3, 0),
        recent=sla_rates.Counts(0, 0, 0),
        rate=40.0,
        projected_rate=None,
        projected_volume=0,
        late_allowance=0,
        target=98.0,
    )
    bar = sla_charts.bars([row], width=500)["bars"][0]
    assert bar.width == 200.0  # 40% of the axis, not a sliver


def test_the_dashboard_range_includes_the_current_month():
    f = dashboard.DashboardFilter.parse({}, scope=Scope.everything(), today_month=date(2026, 12, 1))
    assert (f.first, f.last) == (date(2026, 1, 1), date(2026, 12, 1))
