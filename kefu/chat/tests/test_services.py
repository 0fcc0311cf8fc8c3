"""Chat services: the flows of issue #9 without a socket (the protocol tests drive the same code)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kefu.chat import services, workflow
from kefu.chat.models import ChatSettings, Conversation, Message, Presence, Transfer
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.customers.models import Contact, ContactPhone, Customer
from kefu.org.models import Province, Team
from kefu.realtime.models import VisitorToken

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def groups_of(c: Conversation) -> frozenset[str]:
    return frozenset({c.group})


def start(**kw):
    kw.setdefault("name", "王先生")
    kw.setdefault("unit", "某某局")
    return services.conversation_start(**kw)


def test_the_transition_table_is_pinned():
    assert {a: (sorted(s), t) for a, (s, t) in workflow.TRANSITIONS.items()} == {
        "accept": (["waiting"], "active"),
        "transfer": (["active", "waiting"], "waiting"),
        "close": (["active"], "closed"),
        "idle_close": (["active"], "closed"),
        "visitor_leave": (["active", "waiting"], "closed"),
    }
    assert workflow.target("visitor_leave", "waiting") == "abandoned"
    assert workflow.target("accept", "active") is None


def test_outside_service_hours_the_visitor_is_offered_to_leave_a_message(online_agent):
    Presence.objects.create(user=online_agent.user, status=Presence.Status.ONLINE)
    night = datetime(2026, 12, 3, 21, 30, tzinfo=SH)  # the 7×12 calendar closes at 20:00
    with pytest.raises(Conflict) as e:
        start(now=night)
    assert e.value.code == "chat_offline" and e.value.details["in_hours"] is False
    day = datetime(2026, 12, 3, 10, 0, tzinfo=SH)
    c, _ = start(now=day)
    assert c.status == "waiting"
    assert Conversation.objects.count() == 1


def test_no_agent_online_means_offline(always_open, online_agent):
    with pytest.raises(Conflict) as e:
        start()
    assert e.value.code == "chat_offline" and e.value.details["agents_online"] == 0
    assert Conversation.objects.count() == 0 and VisitorToken.objects.count() == 0


def test_start_normalises_the_phone_and_shows_a_possible_match_only(on_duty):
    sh = Province.objects.get(slug="sh")
    cust = Customer.objects.create(name="上海某委办", account_number="SH-1", province=sh)
    contact = Contact.objects.create(customer=cust, name="李四")
    ContactPhone.objects.create(contact=contact, number="13800138000")
    c, raw = start(phone="+86 138-0013-8000", text="会议室连不上")
    assert c.visitor_phone == "13800138000" and c.possible_contact == contact
    assert len(raw) >= 40 and VisitorToken.objects.get(pk=c.token_id).groups == [c.group]
    assert [m.text for m in c.messages.all()] == ["会议室连不上"]
    with pytest.raises(ValidationFailed) as e:
        start(phone="12ab")
    assert e.value.code == "bad_phone"


def test_accept_greets_and_respects_the_cap(on_duty):
    s = ChatSettings.objects.get()
    s.max_concurrent = 1
    s.save()
    a, _ = start()
    b, _ = start()
    services.conversation_accept(actor=on_duty, conversation_id=a.pk)
    a.refresh_from_db()
    greeting = a.messages.get(seq=1)
    assert a.status == "active" and a.agent == on_duty.user
    assert greeting.kind == "greeting" and greeting.sender == "agent" and "在线客服" in greeting.text
    with pytest.raises(Conflict) as e:
        services.conversation_accept(actor=on_duty, conversation_id=b.pk)
    assert e.value.code == "at_capacity"
    with pytest.raises(Conflict) as e:
        services.conversation_accept(actor=on_duty, conversation_id=a.pk)
    assert e.value.code == "not_waiting"


def test_least_loaded_routing_assigns_on_start(on_duty, make_actor):
    other = make_actor("online_agent2", "online", "agent")
    Presence.objects.create(user=other.user, status=Presence.Status.ONLINE)
    s = ChatSettings.objects.get()
    s.routing = ChatSettings.Routing.LEAST_LOADED
    s.save()
    first, _ = start()
    second, _ = start()
    first.refresh_from_db()
    second.refresh_from_db()
    assert {first.agent_id, second.agent_id} == {on_duty.user.pk, other.user.pk}
    assert first.status == second.status == "active"


def test_messages_have_sequence_numbers_and_a_client_id_twice_is_stored_once(on_duty):
    c, _ = start(text="你好")
    services.conversation_accept(actor=on_duty, conversation_id=c.pk)
    m1 = services.visitor_send(
        groups=groups_of(c), token_id=c.token_id, conversation_id=c.pk, text="请问怎么入会", client_id="v-1"
    )
    again = services.visitor_send(
        groups=groups_of(c), token_id=c.token_id, conversation_id=c.pk, text="请问怎么入会", client_id="v-1"
    )
    m2 = services.agent_send(
        actor=on_duty, conversation_id=c.pk, text="您可以在客户端点击加入会议。", client_id="a-1"
    )
    assert again.pk == m1.pk
    assert [(m.seq, m.sender) for m in c.messages.order_by("seq")] == [
        (1, "visitor"),
        (2, "agent"),
        (3, "visitor"),
        (4, "agent"),
    ]
    c.refresh_from_db()
    assert c.last_seq == 4 and m2.seq == 4 and c.first_response_at is not None


def test_a_banned_phrase_is_refused_with_reason_and_suggestion_and_nothing_is_stored(on_duty):
    c, _ = start(text="你好")
    services.conversation_accept(actor=on_duty, conversation_id=c.pk)
    before = Message.objects.count()
    with pytest.raises(ValidationFailed) as e:
        services.agent_send(actor=on_duty, conversation_id=c.pk, text="你烦不烦啊", client_id="a-2")
    assert e.value.code == "norms_blocked"
    assert e.value.details and e.value.details["hits"][0]["suggestion"]
    assert "烦不烦" in e.value.message and e.value.message_en
    assert Message.objects.count() == before
    # a discouraged (warn) phrase needs the agent's confirmation, then goes out with its codes
    with pytest.raises(ValidationFailed) as e:
        services.agent_send(actor=on_duty, conversation_id=c.pk, text="这个搞定了", client_id="a-3")
    assert e.value.code == "norms_confirm_required"
    m = services.agent_send(
        actor=on_duty, conversation_id=c.pk, text="这个搞定了", client_id="a-3", confirmed=True
    )
    assert m.data["norms"][0]["phrase"] == "搞定"


def test_visitor_cannot_use_another_conversations_token(on_duty):
    a, _ = start()
    b, _ = start()
    with pytest.raises(NotFound):
        services.visitor_send(
            groups=groups_of(a), token_id=a.token_id, conversation_id=b.pk, text="x", client_id="1"
        )
    assert b.messages.count() == 0


def test_agents_see_only_their_teams_conversations(on_duty, agent_sh):
    c, _ = start()
    with pytest.raises(NotFound):
        services.conversation_accept(actor=agent_sh, conversation_id=c.pk)
    with pytest.raises(NotFound):
        services.conversation_accept(actor=agent_sh, conversation_id=987654321)


def test_acting_on_a_conversation_one_does_not_hold_is_refused(on_duty, make_actor):
    other = make_actor("online_agent2", "online", "agent")
    c, _ = start()
    services.conversation_accept(actor=on_duty, conversation_id=c.pk)
    with pytest.raises(Conflict) as e:
        services.agent_send(actor=other, conversation_id=c.pk, text="您好", client_id="x")
    assert e.value.code == "not_holder"
    with pytest.raises(Conflict):
        services.conversation_close(actor=other, conversation_id=c.pk)


def test_close_sends_the_closing_phrase_asks_for_rating_and_the_token_dies_after_rating(on_duty):
    c, _ = start(text="问题")
    services.conversation_accept(actor=on_duty, conversation_id=c.pk)
    services.conversation_close(actor=on_duty, conversation_id=c.pk)
    c.refresh_from_db()
    kinds = list(c.messages.order_by("seq").values_list("kind", flat=True))
    assert kinds[-2:] == ["closing", "event"] and c.status == "closed" and c.closed_by == "agent"
    with pytest.raises(Conflict):
        services.visitor_send(
            groups=groups_of(c), token_id=c.token_id, conversation_id=c.pk, text="还在吗", client_id="z"
        )
    services.conversation_rate(groups=groups_of(c), conversation_id=c.pk, rating="satisfied", comment="很好")
    c.refresh_from_db()
    assert c.rating == "satisfied" and c.rating_comment == "很好"
    assert VisitorToken.objects.get(pk=c.token_id).revoked_at is not None
    with pytest.raises(Conflict):
        services.conversation_rate(groups=groups_of(c), conversation_id=c.pk, rating="neutral")
    with pytest.raises(ValidationFailed):
        services.conversation_rate(groups=groups_of(c), conversation_id=c.pk, rating="great")


def test_a_silent_visitor_is_thanked_and_the_conversation_closes(on_duty):
    c, _ = start()  # no question
    t0 = datetime(2026, 12, 3, 10, 0, tzinfo=SH)
    services.conversation_accept(actor=on_duty, conversation_id=c.pk, now=t0)
    asked, _ = start(text="有问题")
    services.conversation_accept(actor=on_duty, conversation_id=asked.pk, now=t0)
    assert services.conversations_idle_close(now=t0 + timedelta(minutes=4)) == 0
    assert services.conversations_idle_close(now=t0 + timedelta(minutes=5)) == 1
    c.refresh_from_db()
    asked.refresh_from_db()
    assert (
        c.status == "closed" and c.closed_by == "idle" and "欢迎" in c.messages.order_by("-seq").first().text
    )
    assert asked.status == "active"


def test_transfer_to_a_province_desk_is_recorded_and_makes_it_theirs(on_duty, agent_sh, agent_bj):
    c, _ = start(text="我要投诉")
    services.conversation_accept(actor=on_duty, conversation_id=c.pk)
    desk_sh = Team.objects.get(code="desk_sh")
    with pytest.raises(ValidationFailed):
        services.conversation_transfer(
            actor=on_duty, conversation_id=c.pk, reason="nope", to_team_id=desk_sh.pk
        )
    services.conversation_transfer(
        actor=on_duty,
        conversation_id=c.pk,
        reason="complaint_to_province",
        to_team_id=desk_sh.pk,
        note="上海客户",
    )
    c.refresh_from_db()
    assert c.team == desk_sh and c.status == "waiting" and c.agent is None and c.transfers == 1
    t = Transfer.objects.get()
    assert (t.from_team.code, t.to_team.code, t.reason) == ("online", "desk_sh", "complaint_to_province")
    services.conversation_accept(actor=agent_sh, conversation_id=c.pk)  # Shanghai's desk now sees it
    with pytest.raises(NotFound):
        services.conversation_accept(actor=agent_bj, conversation_id=c.pk)
    with pytest.raises(NotFound):
        services.agent_send(actor=on_duty, conversation_id=c.pk, text="您好", client_id="q")
    assert AuditEvent.objects.filter(verb="chat.transferred").count() == 1


def test_conversation_to_work_order_carries_customer_and_transcript(on_duty):
    sh = Province.objects.get(slug="sh")
    cust = Customer.objects.create(name="上海某委办", account_number="SH-2", province=sh)
    contact = Contact.objects.create(customer=cust, name="李四")
    ContactPhone.objects.create(contact=contact, number="13800138001")
    c, _ = start(phone="13800138001", text="会议画面卡顿")
    services.conversation_accept(actor=on_duty, conversation_id=c.pk)
    with pytest.raises(ValidationFailed):  # a fault needs its category, as at the hotline
        services.conversation_to_ticket(
            actor=on_duty, conversation_id=c.pk, kind="fault", subject="会议画面卡顿"
        )
    ticket = services.conversation_to_ticket(
        actor=on_duty, conversation_id=c.pk, kind="fault", subject="会议画面卡顿", category="cf_usage_login"
    )
    c.refresh_from_db()
    assert c.ticket == ticket and ticket.customer == cust and ticket.contact == contact
    assert (
        ticket.channel == "online"
        and "会议画面卡顿" in ticket.description
        and f"#{c.pk}" in ticket.description
    )
    assert AuditEvent.objects.filter(
        verb="chat.ticket_created", target_type="tickets.ticket", target_id=str(ticket.pk)
    ).exists()
    with pytest.raises(Conflict):
        services.conversation_to_ticket(actor=on_duty, conversation_id=c.pk, kind="fault", subject="again")


def test_text_limits_and_bad_input(on_duty):
    c, _ = start()
    g = groups_of(c)
    for text, code in [("", "validation_error"), ("x" * 2001, "too_long"), (123, "validation_error")]:
        with pytest.raises(ValidationFailed) as e:
            services.visitor_send(
                groups=g, token_id=c.token_id, conversation_id=c.pk, text=text, client_id="1"
            )
        assert e.value.code == code
    with pytest.raises(ValidationFailed) as e:
        services.visitor_send(
            groups=g, token_id=c.token_id, conversation_id=c.pk, text="hi", client_id="<script>"
        )
    assert e.value.code == "bad_client_id"
    m = services.visitor_send(
        groups=g, token_id=c.token_id, conversation_id=c.pk, text="<b>hi</b>\x00", client_id="2"
    )
    assert m.text == "<b>hi</b>"  # stored as text; the pages put it in with textContent


def test_new_conversations_from_one_address_are_rate_limited(on_duty):
    for _ in range(5):
        start(address="10.1.1.1")
    with pytest.raises(ValidationFailed) as e:
        start(address="10.1.1.1")
    assert e.value.code == "rate_limited" and e.value.status == 429
    start(address="10.1.1.2")


def test_outside_hours_a_left_message_reaches_the_online_team_and_becomes_an_order(online_agent):
    sh = Province.objects.get(slug="sh")
    cust = Customer.objects.create(name="上海某局", account_number="SH-9", province=sh)
    contact = Contact.objects.create(customer=cust, name="赵六")
    ContactPhone.objects.create(contact=contact, number="13900139000")
    with pytest.raises(ValidationFailed):  # no phone: nobody could answer
        services.message_leave(name="赵六", kind="fault", text="终端无法开机")
    with pytest.raises(ValidationFailed):
        services.message_leave(name="赵六", phone="13900139000", kind="complaint", text="x")
    c = services.message_leave(
        name="赵六", unit="上海某局", phone="139 0013 9000", kind="fault", text="终端无法开机"
    )
    assert c.status == "left" and c.requested_kind == "fault" and c.possible_contact == contact
    assert [q.pk for q in services.waiting_and_mine(online_agent)["left"]] == [c.pk]
    with pytest.raises(Conflict):  # nothing to accept: it is a message, not a live chat
        services.conversation_accept(actor=online_agent, conversation_id=c.pk)
    t = services.conversation_to_ticket(
        actor=online_agent,
        conversation_id=c.pk,
        kind="fault",
        subject="终端无法开机",
        category="cf_usage_login",
    )
    assert t.customer == cust and "终端无法开机" in t.description
    assert services.waiting_and_mine(online_agent)["left"] == []
