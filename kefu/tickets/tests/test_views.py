"""The workbench web UI: queues, filters, phone-first create, the order page offers only allowed actions."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from kefu.org.models import Team
from kefu.tickets import services
from kefu.tickets.models import Ticket

from .factories import customer_in, fresh, make_ticket

pytestmark = pytest.mark.django_db


def web(actor) -> Client:
    c = Client()
    c.force_login(actor.user)
    return c


def action_forms(html: str) -> list[str]:
    return re.findall(r'data-action="([a-z_]+)"', html)


def test_workbench_queues_and_filters(agent_bj, hotline_agent):
    mine = make_ticket(agent_bj, subject="北京登录失败")
    make_ticket(agent_bj, kind="consultation", category=None, topic="bill", subject="北京资费咨询")
    page = web(agent_bj).get("/tickets/").content.decode()
    assert "工单工作台" in page and mine.number in page and "北京资费咨询" in page
    assert 'data-queue="awaiting"' in page and 'data-queue="off_rule"' not in page
    only = (
        web(agent_bj).get("/tickets/", {"kind": "complaint"}, headers={"HX-Request": "true"}).content.decode()
    )
    assert "北京登录失败" in only and "北京资费咨询" not in only and "<html" not in only
    services.ticket_dispatch(
        actor=agent_bj, ticket=mine, to_team=Team.objects.get(code="hotline"), reason_code="complaint_assist"
    )
    awaiting = web(hotline_agent).get("/tickets/", {"queue": "awaiting"}).content.decode()
    assert mine.number in awaiting
    assert 'name="province"' in awaiting  # national roles filter by province


def test_agent_of_another_province_sees_nothing(agent_bj, agent_sh):
    t = make_ticket(agent_bj, subject="北京专属工单")
    assert "北京专属工单" not in web(agent_sh).get("/tickets/", {"queue": "all"}).content.decode()
    assert web(agent_sh).get(f"/tickets/{t.number}/").status_code == 404


def test_order_page_offers_only_allowed_actions(agent_bj, hotline_agent):
    t = make_ticket(agent_bj)
    assert action_forms(web(agent_bj).get(f"/tickets/{t.number}/").content.decode()) == [
        "resolve",
        "dispatch",
        "reply",
        "await_customer",
    ]
    assert action_forms(web(hotline_agent).get(f"/tickets/{t.number}/").content.decode()) == []
    services.ticket_dispatch(
        actor=agent_bj, ticket=t, to_team=Team.objects.get(code="hotline"), reason_code="complaint_assist"
    )
    assert action_forms(web(hotline_agent).get(f"/tickets/{t.number}/").content.decode()) == [
        "accept",
        "return",
    ]
    assert action_forms(web(agent_bj).get(f"/tickets/{t.number}/").content.decode()) == []


def test_action_post_and_illegal_one_from_the_ui(agent_bj):
    t = make_ticket(agent_bj)
    c = web(agent_bj)
    r = c.post(
        f"/tickets/{t.number}/act/reply/", {"method": "call_back", "content": "已回电", "version": "1"}
    )
    assert r.status_code == 302 and fresh(t).replies.count() == 1
    bad = c.post(f"/tickets/{t.number}/act/close/", {"version": "2"})
    assert bad.status_code == 409 and "首问处理中" in bad.content.decode()
    assert fresh(t).status == "open" and fresh(t).version == 2
    stale = c.post(f"/tickets/{t.number}/act/reply/", {"method": "sms", "content": "x", "version": "1"})
    assert stale.status_code == 409 and fresh(t).replies.count() == 1


def test_phone_first_create(agent_bj):
    customer = customer_in("bj", name="北京某局")
    contact = customer.contacts.first()
    phone = contact.phones.first().number
    open_order = make_ticket(agent_bj, customer=customer, subject="之前的投诉")
    c = web(agent_bj)
    assert 'hx-get="/customers/lookup/"' in c.get("/tickets/new/").content.decode()
    found = c.get("/customers/lookup/", {"phone": phone}).content.decode()
    assert "北京某局" in found and open_order.number in found
    r = c.post(
        "/tickets/new/",
        {
            "phone": phone,
            "customer": customer.pk,
            "contact": contact.pk,
            "kind": "fault",
            "cf_category": "cf_usage_function",
            "subject": "会议无法共享屏幕",
            "form_token": "tok-1",
        },
    )
    assert r.status_code == 302
    t = Ticket.objects.unscoped("test").get(subject="会议无法共享屏幕")
    assert (t.kind, t.caller_phone, t.contact_id, t.category.code) == (
        "fault",
        phone,
        contact.pk,
        "cf_usage_function",
    )
    # a double submit of the same form creates one order
    again = c.post(
        "/tickets/new/",
        {
            "phone": phone,
            "customer": customer.pk,
            "contact": contact.pk,
            "kind": "fault",
            "cf_category": "cf_usage_function",
            "subject": "会议无法共享屏幕",
            "form_token": "tok-1",
        },
    )
    assert again["Location"] == r["Location"]
    assert Ticket.objects.unscoped("test").filter(subject="会议无法共享屏幕").count() == 1


def test_create_form_errors_keep_input(agent_bj):
    r = web(agent_bj).post("/tickets/new/", {"kind": "complaint", "subject": "无客户"})
    assert r.status_code == 422 and "请先输入来电号码并选择客户" in r.content.decode()
    assert Ticket.objects.unscoped("test").count() == 0


def test_supervisor_sees_off_rule_queue(lead_js, make_actor):
    agent = make_actor("agent_js2", "desk_js", "agent")
    t = make_ticket(agent, kind="acceptance", category=None)
    t2 = make_ticket(agent, kind="consultation", category=None, topic="usage")
    Ticket.objects.unscoped("test").filter(pk=t2.pk).update(kb_article_id=1)
    services.ticket_dispatch(
        actor=agent, ticket=fresh(t2), to_team=Team.objects.get(code="hotline"), reason_code="needs_expert"
    )
    page = web(lead_js).get("/tickets/", {"queue": "off_rule"}).content.decode()
    assert t2.number in page and t.number not in page
    assert web(agent).get("/tickets/", {"queue": "off_rule"}).status_code == 403


def test_home_panel_shows_queue_counts(agent_bj, hotline_agent):
    t = make_ticket(agent_bj)
    services.ticket_dispatch(
        actor=agent_bj, ticket=t, to_team=Team.objects.get(code="hotline"), reason_code="complaint_assist"
    )
    page = web(hotline_agent).get("/").content.decode()
    assert "待我接单" in page and '<span class="big">1</span>' in page


def test_order_page_timeline_uses_the_shared_include_with_words(agent_bj):
    t = make_ticket(agent_bj)
    services.ticket_dispatch(
        actor=agent_bj, ticket=t, to_team=Team.objects.get(code="hotline"), reason_code="complaint_assist"
    )
    page = web(agent_bj).get(f"/tickets/{t.number}/").content.decode()
    assert 'data-verb="ticket.dispatched"' in page
    assert "投诉需语音客服协助处理" in page and "新视通语音客服(4009208566)" in page
