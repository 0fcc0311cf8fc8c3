"""The service-norms check on every text a work order sends to the customer (API, services, web form)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from kefu.core.models import AuditEvent
from kefu.norms.models import Screening
from kefu.org.models import Team
from kefu.tickets import services
from kefu.tickets.models import CustomerReply
from kefu.tickets.tests.factories import fresh, make_ticket

pytestmark = pytest.mark.django_db
BAD = "你自己不会看说明书吗？…别 再 来 问 了！"


def api(actor, path, body):
    c = Client()
    c.force_login(actor.user)
    return c.post(f"/api/tickets{path}", json.dumps(body), content_type="application/json")


def test_api_reply_with_banned_phrase_is_422_naming_phrase_and_suggestion_nothing_written(agent_bj):
    t = make_ticket(agent_bj)
    version, events = fresh(t).version, AuditEvent.objects.count()
    r = api(agent_bj, f"/{t.number}/reply", {"method": "call_back", "content": BAD})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "norms_blocked"
    assert body["details"]["hits"][0]["phrase"] == "别 再 来 问 了"
    assert body["details"]["hits"][0]["suggestion"] in body["message"]
    assert not CustomerReply.objects.unscoped("test").filter(ticket=t).exists()
    assert fresh(t).version == version and AuditEvent.objects.count() == events
    assert Screening.objects.get().contact_id == str(t.pk)  # the refused attempt is kept for inspection
    good = api(
        agent_bj,
        f"/{t.number}/reply",
        {"method": "call_back", "content": "您好，说明书第三页有入会步骤，我已短信发送给您。"},
    )
    assert good.status_code == 200
    assert CustomerReply.objects.unscoped("test").filter(ticket=t).count() == 1


def test_api_warned_reply_needs_confirmation_and_is_recorded_on_the_event(agent_bj):
    t = make_ticket(agent_bj)
    text = "不是跟你说了吗，需要先升级客户端。"
    r = api(agent_bj, f"/{t.number}/reply", {"method": "call_back", "content": text})
    assert r.status_code == 422 and r.json()["code"] == "norms_confirm_required"
    assert not CustomerReply.objects.unscoped("test").filter(ticket=t).exists()
    r = api(agent_bj, f"/{t.number}/reply", {"method": "call_back", "content": text, "norms_confirmed": True})
    assert r.status_code == 200
    ev = AuditEvent.objects.filter(verb="ticket.replied", target_id=str(t.pk)).get()
    assert ev.data["norms"] == [{"category": "impatience", "severity": "warn", "phrase": "不是跟你说了"}]
    assert Screening.objects.get().outcome == "warn"


def test_the_reply_given_when_resolving_is_checked_too(agent_bj):
    t = make_ticket(agent_bj)
    r = api(
        agent_bj,
        f"/{t.number}/resolve",
        {"resolution": "已处理", "reply_method": "call_back", "reply_content": "烦不烦啊，已经好了"},
    )
    assert r.status_code == 422 and r.json()["code"] == "norms_blocked"
    assert fresh(t).status == t.status
    r = api(
        agent_bj,
        f"/{t.number}/resolve",
        {
            "resolution": "已处理",
            "reply_method": "call_back",
            "reply_content": "您好，问题已处理，感谢您的耐心等待。",
        },
    )
    assert r.status_code == 200 and fresh(t).resolved_at is not None


def test_web_form_keeps_the_typed_text_and_shows_the_suggestion(agent_bj):
    t = make_ticket(agent_bj)
    c = Client()
    c.force_login(agent_bj.user)
    r = c.post(
        f"/tickets/{t.number}/act/reply/",
        {"method": "call_back", "content": BAD, "version": fresh(t).version},
    )
    page = r.content.decode()
    assert r.status_code == 422
    assert "别 再 来 问 了" in page and "欢迎随时联系我们" in page
    assert BAD in page  # the textarea still holds what the agent typed
    assert not CustomerReply.objects.unscoped("test").filter(ticket=t).exists()


def test_dispatch_records_that_the_customer_was_told_the_recorded_problem(agent_bj):
    t = make_ticket(agent_bj, subject="会议中频繁掉线")
    services.ticket_dispatch(
        actor=agent_bj,
        ticket=t,
        to_team=Team.objects.get(code="hotline"),
        reason_code="complaint_assist",
        confirm_problem=True,
    )
    ev = AuditEvent.objects.filter(verb="ticket.dispatched", target_id=str(t.pk)).get()
    told = ev.data["problem_confirmed"]
    assert t.number in told and "会议中频繁掉线" in told


def test_pausing_records_it_too_and_only_when_asked(agent_bj):
    t = make_ticket(agent_bj, subject="账单有疑问")
    services.ticket_await_customer(actor=agent_bj, ticket=t, note="等客户提供截图", confirm_problem="1")
    ev = AuditEvent.objects.filter(verb="ticket.waiting_customer", target_id=str(t.pk)).get()
    assert "账单有疑问" in ev.data["problem_confirmed"]
    t2 = make_ticket(agent_bj)
    services.ticket_await_customer(actor=agent_bj, ticket=t2)
    assert (
        "problem_confirmed"
        not in AuditEvent.objects.filter(verb="ticket.waiting_customer", target_id=str(t2.pk)).get().data
    )


def test_api_await_customer_records_the_confirmed_problem_when_asked(agent_bj):
    t = make_ticket(agent_bj, subject="入会后没有声音")
    r = api(agent_bj, f"/{t.number}/await-customer", {"note": "等客户提供截图", "confirm_problem": True})
    assert r.status_code == 200
    ev = AuditEvent.objects.filter(verb="ticket.waiting_customer", target_id=str(t.pk)).get()
    assert t.number in ev.data["problem_confirmed"] and "入会后没有声音" in ev.data["problem_confirmed"]
    t2 = make_ticket(agent_bj)
    assert api(agent_bj, f"/{t2.number}/await-customer", {"note": "等截图"}).status_code == 200
    ev2 = AuditEvent.objects.filter(verb="ticket.waiting_customer", target_id=str(t2.pk)).get()
    assert "problem_confirmed" not in ev2.data
