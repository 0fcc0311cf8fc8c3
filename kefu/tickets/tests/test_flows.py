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


# -- item 1: a complaint taken at the hotline reaches the province desk's queue -------------------


def _hotline_complaint_resolved(hotline_agent, now=T0):
    from .factories import customer_in

    t = make_ticket(hotline_agent, customer=customer_in("bj"), now=now)
    services.ticket_resolve(
        actor=hotline_agent, ticket=t, resolution="已协助恢复登录", reply_content="已电话告知", now=now
    )
    return t


def test_a_hotline_complaint_arrives_in_the_desks_queue_and_the_desk_archives_it(hotline_agent, agent_bj):
    from kefu.tickets import selectors

    t = _hotline_complaint_resolved(hotline_agent)
    hop = services.ticket_submit_to_province(actor=hotline_agent, ticket=t, note="请省内跟进", now=T0)
    t = fresh(t)
    assert (t.status, t.holder_team.code, hop.to_team.code, hop.status) == (
        "submitted",
        "desk_bj",
        "desk_bj",
        "pending",
    )
    # In the desk's team queue and its own 报送投诉 queue, counted on its home panel; not the hotline's any more.
    assert t.pk in set(selectors.queue(agent_bj, "team", selectors.Filters()).values_list("pk", flat=True))
    assert t.pk in set(
        selectors.queue(agent_bj, "submitted", selectors.Filters()).values_list("pk", flat=True)
    )
    assert selectors.queue_counts(agent_bj)["submitted"] == 1
    assert t.pk not in set(
        selectors.queue(hotline_agent, "team", selectors.Filters()).values_list("pk", flat=True)
    )
    assert services.actions_for(agent_bj, t) == ["follow_up"]
    assert services.actions_for(hotline_agent, t) == []
    services.ticket_follow_up(
        actor=agent_bj, ticket=t, note="已登记，回访客户确认满意", now=T0 + timedelta(hours=1)
    )
    t = fresh(t)
    assert (t.status, Hop.objects.unscoped("test").get(pk=hop.pk).status) == ("closed", "closed")


def test_the_desk_gets_a_notice_of_a_submitted_complaint(hotline_agent, agent_bj, client):
    from conftest import login_client

    t = _hotline_complaint_resolved(hotline_agent)
    services.ticket_submit_to_province(actor=hotline_agent, ticket=t, now=T0)
    page = login_client(client, agent_bj).get("/").content.decode()
    assert "热线/在线报送投诉" in page and t.number in page


# -- item 2: account-manager complaints ------------------------------------------------------------


def test_an_account_manager_complaint_has_the_48h_province_clock(am_gd):
    t = make_ticket(am_gd, now=T0)
    clock = Clock.objects.unscoped("test").get(owner_type="tickets.ticket", owner_id=t.pk, kind="resolve")
    assert (clock.due_at, clock.team.code) == (T0 + timedelta(hours=48), "am_gd")


def test_an_account_manager_hands_a_complaint_to_the_province_desk_within_the_rules(am_gd):
    t = make_ticket(am_gd, now=T0)
    desk = Team.objects.get(code="desk_gd")
    hop = services.ticket_dispatch(actor=am_gd, ticket=t, to_team=desk, reason_code="am_handover", now=T0)
    assert hop.off_rule is False and fresh(t).off_rule_transfers == 0


def test_an_account_manager_complaint_sent_straight_to_the_hotline_is_flagged(am_gd):
    t = make_ticket(am_gd, now=T0)
    hop = services.ticket_dispatch(
        actor=am_gd, ticket=t, to_team=hotline(), reason_code="complaint_assist", now=T0
    )
    assert hop.off_rule is True


# -- item 7: supervisor reassignment (改派) -----------------------------------------------------------


@pytest.fixture
def lead_hotline(make_actor):
    from kefu.org.models import Role

    return make_actor("lead_hotline", "hotline", Role.SUPERVISOR)


def test_a_supervisor_reassigns_a_late_order_back_to_the_first_contact_desk(
    agent_bj, hotline_agent, lead_hotline
):
    from kefu.core.models import AuditEvent

    t = make_ticket(agent_bj, now=T0)
    hop = services.ticket_dispatch(
        actor=agent_bj, ticket=t, to_team=hotline(), reason_code="complaint_assist", now=T0
    )
    late = T0 + timedelta(hours=3)
    with pytest.raises(Conflict):
        services.ticket_return(actor=hotline_agent, ticket=t, reason="not_ours", note="", now=late)
    assert services.can_reassign(hotline_agent, fresh(t)) is False
    services.ticket_reassign(
        actor=lead_hotline,
        ticket=t,
        to_team=Team.objects.get(code="desk_bj"),
        note="开户问题，非热线承办",
        now=late,
    )
    t = fresh(t)
    assert (t.status, t.holder_team.code, t.off_rule_transfers) == ("awaiting_acceptance", "desk_bj", 0)
    hops = list(Hop.objects.unscoped("test").filter(ticket=t).order_by("pk"))
    assert [(h.status, h.reason_code) for h in hops] == [
        ("closed", "complaint_assist"),
        ("pending", "reassigned"),
    ]
    old_accept = Clock.objects.unscoped("test").get(owner_type="tickets.hop", owner_id=hop.pk, kind="accept")
    assert old_accept.status == "stopped"
    ev = AuditEvent.objects.filter(
        target_type="tickets.ticket", target_id=str(t.pk), verb="ticket.reassigned"
    ).get()
    assert ev.data["note"] == "开户问题，非热线承办" and ev.data["to_team"] == "desk_bj"


def test_reassigning_within_the_team_names_the_assignee(agent_bj, make_actor):
    from kefu.org.models import Role

    lead = make_actor("lead_bj", "desk_bj", Role.SUPERVISOR)
    other = make_actor("agent_bj2", "desk_bj", Role.AGENT)
    t = make_ticket(agent_bj, now=T0)
    services.ticket_reassign(
        actor=lead,
        ticket=t,
        to_team=Team.objects.get(code="desk_bj"),
        note="休假",
        assignee_username="agent_bj2",
        now=T0,
    )
    t = fresh(t)
    assert (t.assignee, t.status, t.holder_team.code) == (other.user, "open", "desk_bj")


def test_an_agent_cannot_reassign_and_nothing_changes(agent_bj):
    from kefu.core.errors import Forbidden

    t = make_ticket(agent_bj, now=T0)
    with pytest.raises(Forbidden):
        services.ticket_reassign(actor=agent_bj, ticket=t, to_team=hotline(), note="x", now=T0)
    assert fresh(t).version == t.version


def test_an_off_rule_reassignment_is_flagged_like_a_transfer(agent_bj, make_actor):
    from kefu.org.models import Role

    lead = make_actor("lead_bj", "desk_bj", Role.SUPERVISOR)
    t = make_ticket(agent_bj, now=T0)
    services.ticket_reassign(
        actor=lead, ticket=t, to_team=Team.objects.get(code="online"), note="转在线", now=T0
    )
    assert fresh(t).off_rule_transfers == 1


# -- item 15: the order page asks only what fits now ---------------------------------------------


def test_the_likely_action_comes_first_and_reason_codes_match_the_kind():
    from kefu.tickets import workflow

    facts = workflow.Facts(
        status="open", kind="complaint", channel="province_desk", holder_team_kind="province_desk"
    )
    allowed = workflow.allowed_actions(facts)
    assert workflow.ordered_actions(facts, allowed)[0] == "resolve"
    assert sorted(workflow.ordered_actions(facts, allowed)) == sorted(allowed)
    assert workflow.default_dispatch("complaint", "province_desk") == ("hotline", "complaint_assist")
    assert workflow.default_dispatch("fault", "province_desk") == ("hotline", "fault_unsolved")
    assert workflow.default_dispatch("consultation", "account_managers") == ("hotline", "needs_expert")
    assert workflow.default_dispatch("complaint", "account_managers") == ("province_desk", "am_handover")
    returned = workflow.Facts(
        status="result_returned", kind="complaint", channel="province_desk", holder_team_kind="province_desk"
    )
    assert workflow.ordered_actions(returned, workflow.allowed_actions(returned))[0] == "resolve"


def test_the_order_page_opens_the_likely_form_and_folds_the_rest(agent_bj, client):
    import re

    from conftest import login_client

    t = make_ticket(agent_bj)
    html = login_client(client, agent_bj).get(f"/tickets/{t.number}/").content.decode()
    side = html[html.index('id="actions"') :]
    first = re.search(r'data-action="(\w+)"', side).group(1)
    assert first == "resolve"
    folded = side[side.index("<details") : side.index("</details>")]
    assert 'data-action="dispatch"' in folded and 'data-action="resolve"' not in folded
    # The complaint's dispatch defaults to the hotline with the complaint reason, not 需语音客服专家解答.
    assert re.search(r'<option value="complaint_assist" selected>', folded)
    assert re.search(r'<option value="hotline" selected>', folded)


def test_a_refused_action_comes_back_open_with_the_typed_input(agent_bj, client):
    from conftest import login_client

    t = make_ticket(agent_bj)
    c = login_client(client, agent_bj)
    r = c.post(
        f"/tickets/{t.number}/act/dispatch/",
        {"to_team": "hotline", "reason_code": "other", "note": "", "version": t.version},
    )
    assert r.status_code == 422
    html = r.content.decode()
    side = html[html.index('id="actions"') :]
    assert side.index('data-action="dispatch"') < side.index('data-action="resolve"')
    assert '<option value="other" selected>' in side
    r = c.post(
        f"/tickets/{t.number}/act/resolve/",
        {"resolution": "我输入的处理结果", "reply_content": "", "version": t.version},
    )
    assert r.status_code == 422 and "我输入的处理结果" in r.content.decode()


# -- item 5: queues by deadline ----------------------------------------------------------------------


def test_awaiting_is_sorted_by_accept_deadline_and_work_queues_by_nearest_due(agent_bj, hotline_agent):
    from kefu.tickets import selectors

    first = make_ticket(agent_bj, now=T0)
    second = make_ticket(agent_bj, now=T0 + timedelta(minutes=30))
    services.ticket_dispatch(
        actor=agent_bj,
        ticket=first,
        to_team=hotline(),
        reason_code="complaint_assist",
        now=T0 + timedelta(minutes=10),
    )
    services.ticket_dispatch(
        actor=agent_bj,
        ticket=second,
        to_team=hotline(),
        reason_code="complaint_assist",
        now=T0 + timedelta(minutes=40),
    )
    awaiting = list(
        selectors.queue(hotline_agent, "awaiting", selectors.Filters()).values_list("pk", flat=True)
    )
    assert awaiting == [first.pk, second.pk]  # the one auto-accepted first comes first, though older

    older = make_ticket(agent_bj, now=T0 + timedelta(hours=1))
    newer = make_ticket(agent_bj, now=T0 + timedelta(hours=2))
    paused = make_ticket(agent_bj, now=T0 + timedelta(hours=3))
    services.ticket_await_customer(actor=agent_bj, ticket=paused, now=T0 + timedelta(hours=3))
    team = list(selectors.queue(agent_bj, "team", selectors.Filters()).values_list("pk", flat=True))
    assert team == [older.pk, newer.pk, paused.pk]  # nearest due first; no running clock last


# -- item 11: English action labels are imperatives; the timeline keeps the past tense --------------


def test_english_action_labels_are_imperatives(agent_bj, client):
    import re

    from django.conf import settings

    from conftest import login_client

    t = make_ticket(agent_bj)
    c = login_client(client, agent_bj)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = c.get(f"/tickets/{t.number}/").content.decode()
    buttons = re.findall(r"<button[^>]*>([^<]+)</button>", html[html.index('id="actions"') :])
    assert {"Resolve", "Dispatch", "Record the reply", "Pause the clock"} <= set(buttons)
    assert not {"Dispatched", "Closed", "Clock paused"} & set(buttons)
    services.ticket_resolve(actor=agent_bj, ticket=fresh(t), resolution="已处理", reply_content="已答复")
    html = c.get(f"/tickets/{t.number}/").content.decode()
    buttons = re.findall(r"<button[^>]*>([^<]+)</button>", html[html.index('id="actions"') :])
    assert buttons[0] == "Close"
    timeline = html[html.index('id="timeline"') :]
    assert "Resolved" in timeline


# -- item 12: the account manager lands on their own customers --------------------------------------


def test_the_account_manager_home_page_lists_their_own_customers(am_gd, client, make_actor):
    from conftest import login_client
    from kefu.org.models import Role

    from .factories import customer_in

    other_am = make_actor("am_gd2", "am_gd", Role.ACCOUNT_MANAGER)
    mine = customer_in("gd", name="广州某局(我的)", account_manager=am_gd.user)
    customer_in("gd", name="广州某厅(别人的)", account_manager=other_am.user)
    make_ticket(am_gd, customer=mine, kind="consultation", category=None, topic="usage")
    html = login_client(client, am_gd).get("/").content.decode()
    panel = html[html.index('id="my-customers"') :]
    panel = panel[: panel.index("</section>")]
    assert "广州某局(我的)" in panel and "广州某厅(别人的)" not in panel
    assert ">1</td>" in panel  # its open order


def test_a_refused_note_keeps_what_was_typed(agent_bj, client):
    from conftest import login_client

    t = make_ticket(agent_bj)
    body = "很长的备注" * 1001  # over 5,000 characters
    r = login_client(client, agent_bj).post(f"/tickets/{t.number}/notes/", {"body": body})
    assert r.status_code == 422 and body in r.content.decode()


def test_a_bad_filter_shows_the_workbench_with_the_message(agent_bj, client):
    from conftest import login_client

    r = login_client(client, agent_bj).get("/tickets/", {"date_from": "2026-13-40", "q": "登录"})
    html = r.content.decode()
    assert r.status_code == 422
    assert "日期格式应为 YYYY-MM-DD" in html and 'value="登录"' in html and 'class="queues"' in html
