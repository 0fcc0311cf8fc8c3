"""The HTTP fallback: same groups, same frames, same refusals as the socket."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client

from kefu.org.models import Team
from kefu.realtime import actions, publish, services
from kefu.realtime.models import AllowedOrigin

pytestmark = pytest.mark.django_db


def test_poll_returns_missed_events_after_the_cursor(agent_sh):
    group = f"user.{agent_sh.user.pk}"
    for i in range(1, 4):
        publish(group, "n", {"i": i})
    client = Client()
    client.force_login(agent_sh.user)
    r = client.get("/rt/poll", {"g": f"{group}:1"})
    assert r.status_code == 200
    body = r.json()
    assert [e["seq"] for e in body["events"]] == [2, 3]
    assert body["events"][0] == {"type": "event", "group": group, "seq": 2, "event": "n", "payload": {"i": 2}}
    assert body["cursors"] == {group: 3} and body["reset"] == []
    assert client.get("/rt/poll", {"g": f"{group}:3"}).json()["events"] == []


def test_poll_refuses_other_peoples_groups_like_missing_ones(agent_sh, online_agent):
    client = Client()
    client.force_login(agent_sh.user)
    online = Team.objects.get(code="online")
    a = client.get("/rt/poll", {"g": f"team.{online.pk}:0"})
    b = client.get("/rt/poll", {"g": "team.987654321:0"})
    assert a.status_code == b.status_code == 422
    assert a.json() == b.json() and a.json()["code"] == "group_refused"


def test_poll_bad_input_is_a_clear_4xx():
    client = Client()
    for params in (
        {},
        {"g": "nonsense"},
        {"g": "team.x:1"},
        {"g": "team.1:-1"},
        {"g": [f"public.a{i}:0" for i in range(21)]},
    ):
        r = client.get("/rt/poll", params)
        assert r.status_code == 422, params
        assert r.json()["message"] and r.json()["message_en"]


def test_poll_with_visitor_token_and_cors_for_an_embedding_site():
    AllowedOrigin.objects.create(origin="https://www.partner.example.cn")
    _t, raw = services.visitor_token_issue(purpose="t", groups_allowed=["user.7"], ttl=timedelta(hours=1))
    publish("user.7", "hi", {})
    client = Client()
    r = client.get(
        "/rt/poll", {"g": "user.7:0"}, HTTP_X_KEFU_TOKEN=raw, HTTP_ORIGIN="https://www.partner.example.cn"
    )
    assert r.status_code == 200 and r.json()["events"][0]["event"] == "hi"
    assert r["Access-Control-Allow-Origin"] == "https://www.partner.example.cn"
    bad = client.get("/rt/poll", {"g": "user.7:0"}, HTTP_X_KEFU_TOKEN="y" * 40)
    assert bad.status_code == 401 and bad.json()["code"] == "token_invalid"
    evil = client.get("/rt/poll", {"g": "public.faq:0"}, HTTP_ORIGIN="https://evil.example.com")
    assert evil.status_code == 403


def test_act_runs_a_registered_action_and_refuses_unknown_ones(monkeypatch):
    monkeypatch.setitem(
        actions._ACTIONS,
        "test.echo",
        actions.Action("test.echo", lambda p, f: {"kind": p.kind, "x": f.get("x")}, frozenset({"anonymous"})),
    )
    client = Client()
    r = client.post(
        "/rt/act", json.dumps({"type": "test.echo", "ref": "a", "x": 5}), content_type="application/json"
    )
    assert r.json() == {"type": "reply", "ref": "a", "ok": True, "data": {"kind": "anonymous", "x": 5}}
    r = client.post("/rt/act", json.dumps({"type": "nosuch.x"}), content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "bad_frame"
    r = client.post("/rt/act", "{bad", content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "bad_json"


def test_act_for_a_signed_in_user_needs_the_csrf_token(agent_sh, monkeypatch):
    monkeypatch.setitem(
        actions._ACTIONS,
        "test.echo",
        actions.Action("test.echo", lambda p, f: {"kind": p.kind}, frozenset({"agent"})),
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent_sh.user)
    r = client.post("/rt/act", json.dumps({"type": "test.echo"}), content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "csrf"
