"""Services: creation, numbering, dispatch hops, accept/return, first-contact responsibility, guards."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kefu.core.errors import Conflict, Forbidden, IllegalTransition, NotFound, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.org.models import Team
from kefu.sla.models import Clock
from kefu.sla.sweep import sweep
from kefu.tickets import services
from kefu.tickets.models import Hop, Ticket

from .factories import category, customer_in, fresh, make_ticket

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
# A Tuesday morning inside the 7x12 service hours.
T0 = datetime(2026, 11, 3, 9, 0, tzinfo=SH)


def hotline() -> Team:
    return Team.objects.get(code="hotline")


def events(ticket: Ticket) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type="tickets.ticket", target_id=str(ticket.pk)).values_list(
            "verb", flat=True
        )
    )


def test_create_names_first_contact_and_numbers_from_the_sequence(agent_bj):
    a = make_ticket(agent_bj, now=T0)
    b = make_ticket(agent_bj, now=T0)
    assert a.number.startswith("BJ261103") and len(a.number) == 15
    assert int(b.number[-7:]) == int(a.number[-7:]) + 1
    assert (a.channel, a.status, a.province.slug) == ("province_desk", "open", "bj")
    assert a.first_contact_team.code == "desk_bj" and a.first_contact_agent == agent_bj.user
    assert a.holder_team.code == "desk_bj" and a.version == 1
    assert events(a) == ["ticket.created"]


def test_complaint_at_desk_starts_the_48h_resolve_clock(agent_bj):
    t = make_ticket(agent_bj, now=T0)
    clock = Clock.objects.unscoped("test").get(owner_type="tickets.ticket", owner_id=t.pk, kind="resolve")
    assert clock.due_at == T0 + timedelta(hours=48)
    assert fresh(t).due_at == clock.due_at


def test_category_must_be_a_leaf_in_force_under_the_kind(agent_bj):
    with pytest.raises(ValidationFailed):
        make_ticket(agent_bj, category=category("cf_usage"))  # not a leaf
    with pytest.raises(ValidationFailed):
        make_ticket(agent_bj, category=category("consult"))  # consultation root for a complaint
    with pytest.raises(ValidationFailed):
        make_ticket(agent_bj, kind="complaint", category=None)
    leaf = category("cf_usage_other")
    leaf.valid_to = T0.date()
    leaf.save()
    with pytest.raises(ValidationFailed):
        make_ticket(agent_bj, category=leaf, now=T0 + timedelta(days=1))
    assert make_ticket(agent_bj, category=leaf, now=T0 - timedelta(days=1)).category == leaf
    assert make_ticket(agent_bj, kind="consultation", category=None, topic="usage").category is None
    assert Ticket.objects.unscoped("test").count() == 2


def test_desk_cannot_create_for_another_provinces_customer(agent_bj):
    with pytest.raises(NotFound):
        make_ticket(agent_bj, customer=customer_in("sh"))
    assert Ticket.objects.unscoped("test").count() == 0


def test_hotline_creates_for_any_province_and_the_order_belongs_to_the_customers(hotline_agent):
    t = make_ticket(hotline_agent, customer=customer_in("gd"), kind="fault")
    assert (t.channel, t.province.slug, t.number[:2]) == ("hotline", "gd", "GD")


def test_idempotency_key_returns_the_same_order(agent_bj):
    customer = customer_in("bj")
    kw = dict(actor=agent_bj, kind="consultation", customer=customer, subject="资费咨询", topic="bill")
    first = services.ticket_create(**kw, idempotency_key="k-1", fingerprint="f")
    again = services.ticket_create(**kw, idempotency_key="k-1", fingerprint="f")
    assert first.created and not again.created and first.ticket.pk == again.ticket.pk
    with pytest.raises(Conflict):
        services.ticket_create(**kw, idempotency_key="k-1", fingerprint="other")
    assert Ticket.objects.unscoped("test").count() == 1


def test_an_idempotent_replay_writes_nothing(agent_bj):
    # The key is not read before writing: the retry's whole transaction rolls back on the unique key.
    customer = customer_in("bj")
    kw = dict(
        actor=agent_bj,
        kind="complaint",
        customer=customer,
        subject="无法登录",
        category=category("cf_usage_login"),
    )
    first = services.ticket_create(**kw, idempotency_key="k-2", fingerprint="f")
    before = (
        AuditEvent.objects.count(),
        Clock.objects.unscoped("test").count(),
        Ticket.objects.unscoped("test").count(),
    )
    again = services.ticket_create(**kw, idempotency_key="k-2", fingerprint="f")
    with pytest.raises(Conflict):
        services.ticket_create(**kw, idempotency_key="k-2", fingerprint="other")
    after = (
        AuditEvent.objects.count(),
        Clock.objects.unscoped("test").count(),
        Ticket.objects.unscoped("test").count(),
    )
    assert again.ticket.pk == first.ticket.pk and not again.created and after == before
    assert first.event is not None and first.event.verb == "ticket.created" and again.event is None


def test_dispatch_to_hotline_accept_and_clocks(agent_bj, hotline_agent):
    t = make_ticket(agent_bj, now=T0)
    hop = services.ticket_dispatch(
        actor=agent_bj,
        ticket=t,
        to_team=hotline(),
        reason_code="complaint_assist",
        now=T0 + timedelta(minutes=10),
    )
    t = fresh(t)
    assert (t.status, t.holder_team.code, hop.status, hop.off_rule) == (
        "awaiting_acceptance",
        "hotline",
        "pending",
        False,
    )
    accept = Clock.objects.unscoped("test").get(owner_type="tickets.hop", owner_id=hop.pk, kind="accept")
    assert accept.due_at == T0 + timedelta(hours=2, minutes=10)
    services.ticket_accept(actor=hotline_agent, ticket=t, now=T0 + timedelta(hours=1))
    t, hop = fresh(t), Hop.objects.unscoped("test").get(pk=hop.pk)
    assert (t.status, t.assignee, hop.status, hop.accepted_by) == (
        "accepted",
        hotline_agent.user,
        "accepted",
        hotline_agent.user,
    )
    accept.refresh_from_db()
    assert (accept.status, accept.outcome) == ("stopped", "met")
    resolve = Clock.objects.unscoped("test").get(owner_type="tickets.hop", owner_id=hop.pk, kind="resolve")
    assert resolve.due_at == T0 + timedelta(hours=25)
    # first contact stays named while another team holds it
    assert (t.first_contact_team.code, t.first_contact_agent) == ("desk_bj", agent_bj.user)


def test_return_goes_back_to_the_sender_with_reason(agent_bj, hotline_agent):
    t = make_ticket(agent_bj)
    services.ticket_dispatch(actor=agent_bj, ticket=t, to_team=hotline(), reason_code="complaint_assist")
    with pytest.raises(ValidationFailed):
        services.ticket_return(actor=hotline_agent, ticket=t, reason="other", note="")
    hop = services.ticket_return(
        actor=hotline_agent, ticket=t, reason="not_ours", note="属于开户问题，请省内处理"
    )
    t = fresh(t)
    assert (t.status, t.holder_team.code, t.assignee) == ("open", "desk_bj", agent_bj.user)
    assert (hop.status, hop.return_reason) == ("returned", "not_ours")
    assert events(t) == ["ticket.created", "ticket.dispatched", "ticket.hop_returned"]


def test_auto_accept_after_the_accept_deadline_via_the_sweep(agent_bj):
    t = make_ticket(agent_bj, now=T0)
    hop = services.ticket_dispatch(
        actor=agent_bj, ticket=t, to_team=hotline(), reason_code="complaint_assist", now=T0
    )
    sweep(now=T0 + timedelta(hours=2, minutes=1))
    t, hop = fresh(t), Hop.objects.unscoped("test").get(pk=hop.pk)
    assert (t.status, hop.status, hop.accepted_by) == ("accepted", "auto_accepted", None)
    accept = Clock.objects.unscoped("test").get(owner_type="tickets.hop", owner_id=hop.pk, kind="accept")
    assert (accept.status, accept.outcome) == ("stopped", "late")
    resolve = Clock.objects.unscoped("test").get(owner_type="tickets.hop", owner_id=hop.pk, kind="resolve")
    assert t.due_at == min(resolve.due_at, t.due_at) and t.due_at > T0 + timedelta(hours=2, minutes=1)
    assert events(t)[-1] == "ticket.hop_auto_accepted"
    assert services.hop_auto_accept(hop_id=hop.pk, now=T0 + timedelta(hours=3)) is False  # idempotent
    assert events(t).count("ticket.hop_auto_accepted") == 1


def test_a_late_sweep_gives_no_extra_time(agent_bj):
    """Accepted at the 2-hour mark, not when the sweep got round to it: the 24 h clock starts then."""
    t = make_ticket(agent_bj, now=T0)
    hop = services.ticket_dispatch(
        actor=agent_bj, ticket=t, to_team=hotline(), reason_code="complaint_assist", now=T0
    )
    accept = Clock.objects.unscoped("test").get(owner_type="tickets.hop", owner_id=hop.pk, kind="accept")
    sweep(now=accept.due_at + timedelta(hours=5))
    hop = Hop.objects.unscoped("test").get(pk=hop.pk)
    resolve = Clock.objects.unscoped("test").get(owner_type="tickets.hop", owner_id=hop.pk, kind="resolve")
    assert hop.status == "auto_accepted"
    assert hop.accepted_at == accept.due_at == resolve.started_at
    assert resolve.due_at == accept.due_at + timedelta(hours=24)


def test_off_rule_transfer_is_flagged_and_counted(agent_bj, hotline_agent):
    t = make_ticket(
        hotline_agent, customer=customer_in("bj"), kind="consultation", category=None, topic="usage"
    )
    hop = services.ticket_dispatch(
        actor=hotline_agent, ticket=t, to_team=Team.objects.get(code="online"), reason_code="customer_request"
    )
    assert hop.off_rule is True and fresh(t).off_rule_transfers == 1
    assert Ticket.objects.unscoped("test").filter(off_rule_transfers__gt=0).count() == 1


def test_consultation_answered_by_an_article_is_off_rule_when_sent_on(agent_bj):
    t = make_ticket(agent_bj, kind="consultation", category=None, topic="usage")
    Ticket.objects.unscoped("test").filter(pk=t.pk).update(kb_article_id=7)
    hop = services.ticket_dispatch(
        actor=agent_bj, ticket=fresh(t), to_team=hotline(), reason_code="needs_expert"
    )
    assert hop.off_rule is True


def test_illegal_transition_names_state_and_allowed_actions_and_changes_nothing(agent_bj):
    t = make_ticket(agent_bj)
    before = (fresh(t).version, events(t))
    with pytest.raises(IllegalTransition) as exc:
        services.ticket_accept(actor=agent_bj, ticket=t)
    assert exc.value.status == 409
    assert exc.value.details["status"] == "open"
    assert exc.value.details["allowed_actions"] == ["dispatch", "reply", "await_customer", "resolve"]
    assert "首问处理中" in exc.value.message
    assert (fresh(t).version, events(t)) == before


def test_only_the_holding_team_acts(agent_bj, hotline_agent, make_actor):
    t = make_ticket(agent_bj)
    other_hotline_desk = make_actor("agent_bj2", "am_bj", "account_manager")
    with pytest.raises(Forbidden):
        services.ticket_reply(actor=other_hotline_desk, ticket=t, method="sms", content="x")
    services.ticket_dispatch(actor=agent_bj, ticket=t, to_team=hotline(), reason_code="complaint_assist")
    with pytest.raises(Forbidden):
        services.ticket_accept(actor=agent_bj, ticket=t)  # the sender cannot accept its own hop
    assert fresh(t).status == "awaiting_acceptance"


def test_resolve_needs_a_reply_first(agent_bj):
    t = make_ticket(agent_bj)
    with pytest.raises(ValidationFailed) as exc:
        services.ticket_resolve(actor=agent_bj, ticket=t, resolution="已处理")
    assert exc.value.code == "reply_required"
    assert fresh(t).status == "open"
    services.ticket_resolve(
        actor=agent_bj,
        ticket=t,
        resolution="已处理",
        reply_method="call_back",
        reply_content="已电话告知客户处理结果",
    )
    t = fresh(t)
    assert t.status == "resolved" and t.replies.count() == 1 and t.last_reply_at is not None


def test_waiting_for_the_customer_pauses_the_resolve_clock(agent_bj):
    t = make_ticket(agent_bj, now=T0)
    services.ticket_await_customer(
        actor=agent_bj, ticket=t, note="等客户提供截图", now=T0 + timedelta(hours=1)
    )
    clock = Clock.objects.unscoped("test").get(owner_type="tickets.ticket", owner_id=t.pk)
    assert clock.status == "paused" and fresh(t).due_at is None
    services.ticket_customer_responded(actor=agent_bj, ticket=t, now=T0 + timedelta(hours=11))
    clock.refresh_from_db()
    assert clock.status == "running" and clock.due_at == T0 + timedelta(hours=58)
    assert fresh(t).status == "open"


def test_stale_version_edit_gets_409_with_what_changed(agent_bj):
    t = make_ticket(agent_bj)
    services.ticket_update(actor=agent_bj, ticket=t, version=1, subject="登录失败(已核实)")
    with pytest.raises(Conflict) as exc:
        services.ticket_update(actor=agent_bj, ticket=t, version=1, description="新的描述")
    d = exc.value.details
    assert (exc.value.status, d["your_version"], d["current_version"]) == (409, 1, 2)
    assert d["changes_since"][0]["fields"] == ["subject"]
    assert d["current"]["subject"] == "登录失败(已核实)"
    assert fresh(t).description == "客户反映登录失败"


def test_hotline_complaint_is_submitted_to_the_customers_province(hotline_agent):
    t = make_ticket(hotline_agent, customer=customer_in("js"))
    services.ticket_resolve(
        actor=hotline_agent,
        ticket=t,
        resolution="已协调恢复",
        reply_method="call_back",
        reply_content="已回电",
    )
    with pytest.raises(IllegalTransition):
        services.ticket_close(actor=hotline_agent, ticket=t)
    hop = services.ticket_submit_to_province(actor=hotline_agent, ticket=t, note="请知悉")
    t = fresh(t)
    assert (t.status, t.holder_team.code, hop.to_team.code, hop.status, hop.requires_acceptance) == (
        "submitted",
        "desk_js",
        "desk_js",
        "pending",
        False,
    )


def test_edit_refuses_a_topic_of_another_kind_and_changes_nothing(agent_bj):
    t = make_ticket(agent_bj, kind="consultation", category=None, topic="usage")
    with pytest.raises(ValidationFailed):
        services.ticket_update(actor=agent_bj, ticket=t, version=1, topic="termination")
    assert (fresh(t).topic, fresh(t).version) == ("usage", 1)


def test_a_policy_edit_applies_to_the_next_order(agent_bj):
    # kefu.sla caches the policy clock_start picks; saving a policy must clear that copy.
    from kefu.sla.models import Policy

    first = make_ticket(agent_bj, now=T0)
    clock = Clock.objects.unscoped("test").get(owner_type="tickets.ticket", owner_id=first.pk, kind="resolve")
    policy = Policy.objects.get(pk=clock.policy_id)
    policy.duration_minutes += 60
    policy.save()
    second = make_ticket(agent_bj, now=T0)
    later = Clock.objects.unscoped("test").get(
        owner_type="tickets.ticket", owner_id=second.pk, kind="resolve"
    )
    assert (later.policy_id, later.budget_seconds) == (policy.pk, clock.budget_seconds + 3600)
