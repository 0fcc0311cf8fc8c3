"""Issue #14 (flows, deadlines, screens) and #15.10 (version checks under the lock)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kefu.core.errors import Conflict
from kefu.org.models import Team
from kefu.sla.models import Clock
from kefu.sla.selectors import clocks_for, describe_left
from kefu.tickets import services
from kefu.tickets.models import CustomerReply, Hop

from .factories import fresh, make_ticket

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 3, 9, 0, tzinfo=SH)  # a Tuesday inside the 7x12 service hours


def hotline() -> Team:
    return Team.objects.get(code="hotline")


# -- #15.10: the version is compared under the row lock, by the service ---------------------------


def test_a_stale_version_is_refused_by_the_service_for_an_action_that_keeps_the_status(agent_bj):
    t = make_ticket(agent_bj, now=T0)
    seen = t.version
    services.ticket_reply(actor=agent_bj, ticket=t, method="call_back", content="已致电", now=T0)
    # The caller still holds the object it read before (version ``seen``): only the locked row knows.
    with pytest.raises(Conflict) as exc:
        services.ticket_reply(
            actor=agent_bj, ticket=t, method="call_back", content="再次致电", version=seen, now=T0
        )
    assert exc.value.code == "stale_version"
    assert exc.value.details["current_version"] == seen + 1
    assert CustomerReply.objects.unscoped("test").filter(ticket=t).count() == 1
    # The current version passes.
    services.ticket_reply(
        actor=agent_bj, ticket=t, method="call_back", content="再次致电", version=seen + 1, now=T0
    )
    assert fresh(t).version == seen + 2


def test_the_views_and_api_have_no_version_pre_check():
    import inspect

    from kefu.tickets import api, views

    assert "_stale" not in inspect.getsource(api) and "_stale" not in inspect.getsource(views)


# -- item 3: a return after the accept window is refused ------------------------------------------


def test_a_return_after_the_accept_deadline_is_refused_even_before_the_sweep(agent_bj, hotline_agent):
    t = make_ticket(agent_bj, now=T0)
    hop = services.ticket_dispatch(
        actor=agent_bj, ticket=t, to_team=hotline(), reason_code="complaint_assist", now=T0
    )
    accept = Clock.objects.unscoped("test").get(owner_type="tickets.hop", owner_id=hop.pk, kind="accept")
    late = accept.due_at + timedelta(minutes=1)
    before = fresh(t).version
    with pytest.raises(Conflict) as exc:
        services.ticket_return(actor=hotline_agent, ticket=t, reason="not_ours", note="", now=late)
    assert exc.value.code == "accept_window_passed"
    assert "视为已接单" in exc.value.message and "counts as accepted" in exc.value.message_en
    t2, hop2 = fresh(t), Hop.objects.unscoped("test").get(pk=hop.pk)
    assert (t2.status, t2.version, hop2.status) == ("awaiting_acceptance", before, "pending")


def test_a_return_inside_the_window_still_works(agent_bj, hotline_agent):
    t = make_ticket(agent_bj, now=T0)
    hop = services.ticket_dispatch(
        actor=agent_bj, ticket=t, to_team=hotline(), reason_code="complaint_assist", now=T0
    )
    accept = Clock.objects.unscoped("test").get(owner_type="tickets.hop", owner_id=hop.pk, kind="accept")
    services.ticket_return(
        actor=hotline_agent, ticket=t, reason="not_ours", note="", now=accept.due_at - timedelta(minutes=1)
    )
    assert fresh(t).status == "open"


# -- item 4: time left in the clock's own unit, with the due time in Beijing time -----------------


def test_describe_left_is_pure_and_says_overdue():
    due = datetime(2026, 11, 5, 1, 0, tzinfo=ZoneInfo("UTC"))  # 09:00 Beijing
    assert (
        describe_left(48 * 3600 - 60, due, service_hours=False)
        == "剩余 47 小时 59 分 · 截止 11-05 09:00 北京时间"
    )
    assert (
        describe_left(-(27 * 3600), due, service_hours=False) == "已超时 27 小时 · 截止 11-05 09:00 北京时间"
    )
    assert (
        describe_left(90 * 60, due, service_hours=True)
        == "剩余 1 小时 30 分(服务时间) · 截止 11-05 09:00 北京时间"
    )
    assert describe_left(None, due, service_hours=False) == ""


def test_a_48_hour_clock_registered_a_minute_ago_shows_47_59_in_natural_hours(agent_bj):
    # Registered in the evening: service-hours arithmetic would give far less than 47:59.
    evening = datetime(2026, 11, 3, 18, 30, tzinfo=SH)
    t = make_ticket(agent_bj, now=evening)
    (info,) = clocks_for("tickets.ticket", [t.pk], now=evening + timedelta(minutes=1))
    assert info.left_seconds == 48 * 3600 - 60
    assert info.left_display == "剩余 47 小时 59 分 · 截止 11-05 18:30 北京时间"


def test_an_order_27_hours_late_shows_27_hours_overdue(agent_bj):
    t = make_ticket(agent_bj, now=T0)
    (info,) = clocks_for("tickets.ticket", [t.pk], now=T0 + timedelta(hours=48 + 27))
    assert info.state == "overdue"
    assert info.left_display == "已超时 27 小时 · 截止 11-05 09:00 北京时间"


def test_the_accept_clock_counts_service_hours(agent_bj):
    # Dispatched at 18:30 on a 7x12 calendar (07:00-19:00?): the 2 hours run in service time.
    t = make_ticket(agent_bj, now=T0)
    hop = services.ticket_dispatch(
        actor=agent_bj, ticket=t, to_team=hotline(), reason_code="complaint_assist", now=T0
    )
    (info,) = [
        i
        for i in clocks_for("tickets.hop", [hop.pk], now=T0 + timedelta(minutes=30))
        if i.clock.kind == "accept"
    ]
    assert info.left_seconds == 90 * 60
    assert info.left_display.startswith("剩余 1 小时 30 分(服务时间)")
