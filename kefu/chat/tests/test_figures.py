from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.test import Client

from kefu.chat.figures import compute, conversations_for, percentile
from kefu.chat.models import Conversation
from kefu.org.models import Team

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def test_percentile_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([10, 20, 30, 40], 50) == 20
    assert percentile([10, 20, 30, 40], 90) == 40
    assert percentile([5], 90) == 5


def conv(created, **kw):
    return Conversation.objects.create(
        team=Team.objects.get(code="online"), visitor_name="v", created_at=created, **kw
    )


def test_figures_count_waits_first_response_abandonment_ratings(online_agent):
    t = datetime(2026, 12, 1, 9, 10, tzinfo=SH)
    conv(
        t,
        status="closed",
        agent=online_agent.user,
        accepted_at=t + timedelta(seconds=30),
        first_response_at=t + timedelta(seconds=90),
        closed_at=t + timedelta(minutes=10),
        rating="satisfied",
        kb_answered=True,
    )
    conv(
        t + timedelta(minutes=25),
        status="closed",
        agent=online_agent.user,
        accepted_at=t + timedelta(minutes=26),
        first_response_at=t + timedelta(minutes=26, seconds=20),
        closed_at=t + timedelta(minutes=30),
        rating="unsatisfied",
    )
    conv(t + timedelta(days=1), status="abandoned")
    conv(datetime(2026, 11, 30, 23, 59, tzinfo=SH), status="closed")  # outside the period (Beijing dates)
    f = compute(Conversation.objects.all(), date(2026, 12, 1), date(2026, 12, 2))
    assert f.total == 3 and f.abandoned == 1 and f.kb_answered == 1
    assert f.per_day == {date(2026, 12, 1): 2, date(2026, 12, 2): 1}
    assert f.per_half_hour == {"09:00": 2, "09:30": 1}
    assert (f.wait_p50, f.wait_p90) == (30, 60)
    assert (f.first_response_p50, f.first_response_p90) == (20, 60)
    assert f.ratings == {"satisfied": 1, "neutral": 0, "unsatisfied": 1}
    assert f.per_agent[0][:2] == ("online_agent", 2)


def test_stats_page_and_excel_are_scoped(make_actor, online_agent):
    lead = make_actor("online_lead", "online", "supervisor")
    desk_lead = make_actor("lead_sh", "desk_sh", "supervisor")
    conv(datetime.now(SH) - timedelta(hours=1), status="abandoned")
    assert conversations_for(desk_lead).count() == 0 and conversations_for(lead).count() == 1
    client = Client()
    client.force_login(lead.user)
    page = client.get("/chat/stats/")
    assert page.status_code == 200 and '<td id="fig-total">1</td>' in page.content.decode()
    xlsx = client.get("/chat/stats/", {"format": "xlsx"})
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert wb["在线客服"]["B2"].value == 1
    assert client.get("/chat/stats/", {"start": "2026-13-01"}).status_code == 422
    other = Client()
    other.force_login(desk_lead.user)
    assert '<td id="fig-total">0</td>' in other.get("/chat/stats/").content.decode()
