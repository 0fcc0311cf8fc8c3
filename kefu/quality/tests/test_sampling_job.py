"""The month-end sample: drawn once per month by a periodic job, never doubled by reruns or the button."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from kefu.core.models import JobHeartbeat
from kefu.org.models import Role, Team
from kefu.quality import services, tasks
from kefu.quality.models import Inspection, Reason, SamplingRun, SamplingSetting
from kefu.tickets import services as tickets
from kefu.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def replied(actor, n):
    for _ in range(n):
        t = make_ticket(actor)
        tickets.ticket_reply(
            actor=actor, ticket=t, method="call_back", content="您好，已为您登记，我们会尽快处理。"
        )


def next_month_start() -> datetime:
    first = timezone.localdate().replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return datetime.combine(nxt, datetime.min.time(), services.BJ) + timedelta(hours=9)


def test_previous_month_is_beijing_time():
    # 2026-12-01 00:30 Beijing is still 30 November in UTC: the month before is November
    assert services.previous_month(datetime(2026, 11, 30, 16, 30, tzinfo=UTC)) == date(2026, 11, 1)
    assert services.previous_month(datetime(2026, 12, 1, 0, 30, tzinfo=services.BJ)) == date(2026, 11, 1)


def test_month_end_draw_happens_once(agent_bj):
    SamplingSetting.objects.update(samples_per_agent=2)
    replied(agent_bj, 5)
    at = next_month_start()
    assert services.sample_month_end(now=at) == 2
    assert services.sample_month_end(now=at) is None  # rerun: the month is drawn
    assert services.sample_month_end(now=at + timedelta(days=3)) is None
    assert Inspection.objects.unscoped("test").count() == 2
    run = SamplingRun.objects.get()
    assert run.month == timezone.localdate().replace(day=1) and run.created == 2


def test_button_then_month_end_never_exceeds_n_random_per_agent(agent_bj, make_actor):
    lead = make_actor("lead_bj", "desk_bj", Role.SUPERVISOR)
    SamplingSetting.objects.update(samples_per_agent=2)
    replied(agent_bj, 3)
    assert services.sample_month(actor=lead, month=timezone.localdate()) == 2  # the button, mid-month
    replied(agent_bj, 4)  # more replies after the button
    assert services.sample_month_end(now=next_month_start()) == 0
    random_ones = Inspection.objects.unscoped("test").filter(agent=agent_bj.user, reason=Reason.RANDOM)
    assert random_ones.count() == 2


def test_job_runs_the_draw_and_leaves_a_heartbeat(agent_bj, monkeypatch):
    replied(agent_bj, 1)
    at = next_month_start()
    monkeypatch.setattr(services.timezone, "now", lambda: at)
    assert tasks.quality_sample_month_end.call_local() == {"created": 1, "skipped": 0}
    assert tasks.quality_sample_month_end.call_local() == {"created": 0, "skipped": 1}
    assert JobHeartbeat.objects.get(name="quality.sample_month_end").last_summary == {
        "created": 0,
        "skipped": 1,
    }


def test_job_is_daily_in_utc():
    due = tasks.quality_sample_month_end.task_class().validate_datetime
    assert due(datetime(2026, 12, 1, 1, 20)) and due(datetime(2026, 12, 2, 1, 20))
    assert not due(datetime(2026, 12, 1, 1, 21))


def test_the_page_says_whether_the_month_end_draw_was_made(agent_bj, make_actor):
    from django.test import Client

    lead = make_actor("lead_bj", "desk_bj", Role.SUPERVISOR)
    replied(agent_bj, 1)
    c = Client()
    c.force_login(lead.user)
    month = timezone.localdate().strftime("%Y-%m")
    assert "月末抽检在次月 1 日自动抽取" in c.get(f"/quality/?month={month}").content.decode()
    services.sample_month_end(now=next_month_start())
    assert "由月末抽检自动抽取(1 条)" in c.get(f"/quality/?month={month}").content.decode()


def test_chats_held_by_online_agents_are_drawn_and_shown_with_their_messages(
    online_agent, make_actor, client
):
    """第六条: online service is inspected like the hotline — a closed conversation is a contact in the draw."""
    from kefu.chat.models import Conversation, Message

    SamplingSetting.objects.update(samples_per_agent=1)
    now = timezone.now()
    conv = Conversation.objects.create(
        team=Team.objects.get(code="online"),
        agent=online_agent.user,
        status=Conversation.Status.CLOSED,
        visitor_name="李女士",
        closed_at=now,
    )
    Message.objects.create(conversation=conv, seq=1, sender="visitor", text="会议室连不上")
    Message.objects.create(
        conversation=conv, seq=2, sender="agent", author=online_agent.user, text="您好，请您重启终端后再试。"
    )
    ops_lead = make_actor("hq_inspector", "hq_service", Role.SUPERVISOR)
    assert services.sample_month(actor=ops_lead, month=timezone.localdate()) == 1
    ins = Inspection.objects.unscoped("test").get()
    assert (ins.contact_kind, ins.contact_id, ins.agent_id, ins.reason) == (
        "chat",
        str(conv.pk),
        online_agent.user.pk,
        Reason.RANDOM,
    )
    assert services.sample_month(actor=ops_lead, month=timezone.localdate()) == 0  # not drawn twice
    client.force_login(ops_lead.user)
    page = client.get(f"/quality/{ins.pk}/").content.decode()
    assert "请您重启终端后再试" in page and "会议室连不上" in page
