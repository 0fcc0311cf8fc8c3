"""Chats and calls linked to an incident: suggestions, one-click links, scoping, counts in the page and review."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kefu.calls.tests.factories import make_call
from kefu.chat.models import Conversation
from kefu.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.org.models import Province, Role, Team

from .. import contacts, review, services
from ..models import ContactLink
from .conftest import declare

pytestmark = pytest.mark.django_db


def _prov(slug: str) -> Province:
    return Province.objects.get(slug=slug)


def _chat(team_code: str, *, minutes_ago: int = 5, **kw) -> Conversation:
    return Conversation.objects.create(
        team=Team.objects.get(code=team_code),
        status=kw.pop("status", "closed"),
        visitor_name="王先生",
        visitor_unit="某某局",
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
        **kw,
    )


@pytest.fixture
def lead_sh(make_actor):
    return make_actor("lead_sh", "desk_sh", Role.SUPERVISOR)


def test_suggestions_are_the_window_in_affected_provinces_and_the_national_lines(hotline_lead, lead_js):
    inc = declare(hotline_lead, slugs=("js",))
    js_chat = _chat("desk_js")
    online_chat = _chat("online")
    _chat("desk_gd")  # a province not affected
    _chat("desk_js", minutes_ago=120)  # before the start
    _chat("online", status="abandoned")  # left before anyone answered, asked nothing
    js_call = make_call(_prov("js"))
    hotline_call = make_call(None)
    make_call(_prov("gd"))
    make_call(_prov("js"), at=timezone.now() - timedelta(hours=2))

    national = hotline_lead.scope
    assert {c.pk for c in contacts.chat_candidates(inc, national)} == {js_chat.pk, online_chat.pk}
    assert {c.pk for c in contacts.call_candidates(inc, national)} == {js_call.pk, hotline_call.pk}
    # A province desk sees its own contacts only, never the national lines'.
    assert [c.pk for c in contacts.chat_candidates(inc, lead_js.scope)] == [js_chat.pk]
    assert [c.pk for c in contacts.call_candidates(inc, lead_js.scope)] == [js_call.pk]

    contacts.contact_link_create(actor=lead_js, incident=inc, kind="call", contact_id=js_call.pk)
    assert [c.pk for c in contacts.call_candidates(inc, national)] == [hotline_call.pk]


def test_link_a_chat_and_a_call_with_audit_and_counts(hotline_lead, lead_js, hotline_agent):
    inc = declare(hotline_lead, slugs=("js",))
    chat = _chat("desk_js")
    call = make_call(None)
    a = contacts.contact_link_create(actor=lead_js, incident=inc, kind="chat", contact_id=chat.pk)
    b = contacts.contact_link_create(actor=hotline_agent, incident=inc, kind="call", contact_id=call.pk)
    assert (a.kind, a.conversation_id, a.province_id, a.linked_by_id) == (
        "chat",
        chat.pk,
        _prov("js").pk,
        lead_js.user.pk,
    )
    assert (b.kind, b.call_id, b.province_id) == ("call", call.pk, None)
    events = AuditEvent.objects.filter(verb="incident.contact_linked", target_id=str(inc.pk))
    assert sorted((e.data["kind"], e.data["contact"], e.province_code) for e in events) == sorted(
        [("chat", chat.pk, _prov("js").code), ("call", call.pk, "")]
    )
    # Linking the same contact again changes nothing.
    again = contacts.contact_link_create(actor=lead_js, incident=inc, kind="chat", contact_id=chat.pk)
    assert again.pk == a.pk and events.count() == 2
    # HQ sees both; the Jiangsu desk only its own chat (the hotline call is national).
    assert contacts.counts(inc, hotline_lead.scope) == {"chat": 1, "call": 1}
    assert contacts.counts(inc, lead_js.scope) == {"chat": 1, "call": 0}
    rep = review.build(inc, hotline_lead.scope)
    assert (rep.chats, rep.calls) == (1, 1)
    assert rep.contacts_per_province == {"江苏": {"chat": 1}, "全国": {"call": 1}}
    assert (review.build(inc, lead_js.scope).chats, review.build(inc, lead_js.scope).calls) == (1, 0)
    assert review.to_xlsx(rep)[:2] == b"PK"


def test_bad_links_are_refused_and_write_nothing(hotline_lead, lead_js, lead_sh, make_actor):
    inc = declare(hotline_lead, slugs=("js",))
    other = declare(hotline_lead, slugs=("js", "gd"), title="另一事件")
    gd_call = make_call(_prov("gd"))
    js_call = make_call(_prov("js"))
    early = make_call(_prov("js"), at=timezone.now() - timedelta(hours=3))
    hotline_call = make_call(None)
    manager = make_actor("am_js", "desk_js", Role.ACCOUNT_MANAGER)
    before = (ContactLink.objects.unscoped("test").count(), AuditEvent.objects.count())

    with pytest.raises(NotFound):  # another province's call: the 404 of a missing one
        contacts.contact_link_create(actor=lead_sh, incident=inc, kind="call", contact_id=js_call.pk)
    with pytest.raises(NotFound):  # a national hotline call is for national seats
        contacts.contact_link_create(actor=lead_js, incident=inc, kind="call", contact_id=hotline_call.pk)
    with pytest.raises(NotFound):
        contacts.contact_link_create(actor=lead_js, incident=inc, kind="call", contact_id=987654321)
    with pytest.raises(ValidationFailed) as exc:  # Guangdong is not affected by this incident
        contacts.contact_link_create(actor=hotline_lead, incident=inc, kind="call", contact_id=gd_call.pk)
    assert exc.value.code == "province_not_affected"
    with pytest.raises(ValidationFailed) as exc:
        contacts.contact_link_create(actor=lead_js, incident=inc, kind="call", contact_id=early.pk)
    assert exc.value.code == "before_start"
    with pytest.raises(ValidationFailed):
        contacts.contact_link_create(actor=lead_js, incident=inc, kind="ticket", contact_id=js_call.pk)
    with pytest.raises(Forbidden):  # account managers link orders, not calls
        contacts.contact_link_create(actor=manager, incident=inc, kind="call", contact_id=js_call.pk)
    assert (ContactLink.objects.unscoped("test").count(), AuditEvent.objects.count()) == before

    contacts.contact_link_create(actor=lead_js, incident=other, kind="call", contact_id=js_call.pk)
    with pytest.raises(Conflict) as exc:
        contacts.contact_link_create(actor=lead_js, incident=inc, kind="call", contact_id=js_call.pk)
    assert exc.value.code == "already_linked"

    services.incident_set_status(
        actor=hotline_lead, incident=inc, status="resolved", resolution_text="已恢复"
    )
    chat = _chat("desk_js")
    with pytest.raises(Conflict) as exc:
        contacts.contact_link_create(actor=lead_js, incident=inc, kind="chat", contact_id=chat.pk)
    assert exc.value.code == "incident_closed"


def test_unlink_while_open(hotline_lead, lead_js, lead_sh):
    inc = declare(hotline_lead, slugs=("js", "sh"))
    link = contacts.contact_link_create(
        actor=lead_js, incident=inc, kind="chat", contact_id=_chat("desk_js").pk
    )
    with pytest.raises(NotFound):  # Shanghai cannot undo Jiangsu's link
        contacts.contact_link_remove(actor=lead_sh, link=link)
    contacts.contact_link_remove(actor=lead_js, link=link)
    assert not ContactLink.objects.unscoped("test").exists()
    assert AuditEvent.objects.filter(verb="incident.contact_unlinked", target_id=str(inc.pk)).count() == 1


def test_incident_page_one_click_link(client, hotline_lead, lead_js):
    inc = declare(hotline_lead, slugs=("js",))
    chat = _chat("desk_js")
    call = make_call(_prov("js"))
    client.force_login(lead_js.user)
    page = client.get(reverse("incidents:detail", args=[inc.number])).content.decode()
    assert 'data-testid="chat-candidates"' in page and 'data-testid="call-candidates"' in page
    url = reverse("incidents:contact_link", args=[inc.number])
    assert client.post(url, {"kind": "chat", "id": str(chat.pk)}).status_code == 302
    assert client.post(url, {"kind": "call", "id": str(call.pk)}).status_code == 302
    page = client.get(reverse("incidents:detail", args=[inc.number])).content.decode()
    assert "在线会话 1 · 通话 1" in page
    assert 'data-testid="chat-candidates"' not in page
    bad = client.post(url, {"kind": "call", "id": "abc"})
    assert bad.status_code == 422
    assert ContactLink.objects.unscoped("test").count() == 2


def test_contacts_over_the_api(hotline_lead, lead_js, lead_sh):
    from .test_api import api

    inc = declare(hotline_lead, slugs=("js",))
    call = make_call(_prov("js"))
    url = f"/api/incidents/{inc.number}/contacts"
    js = api(lead_js)
    r = js.post(url, {"kind": "call", "id": call.pk}, content_type="application/json")
    assert r.status_code == 201, r.content
    assert r.json()["kind"] == "call" and r.json()["contact_id"] == call.pk and r.json()["province"] == "js"
    assert [c["contact_id"] for c in js.get(url).json()] == [call.pk]
    r = js.post(url, {"kind": "ticket", "id": call.pk}, content_type="application/json")
    assert r.status_code == 422
    # Shanghai is not affected: the 404 of a missing incident.
    assert api(lead_sh).get(url).status_code == 404
    assert ContactLink.objects.unscoped("test").count() == 1
