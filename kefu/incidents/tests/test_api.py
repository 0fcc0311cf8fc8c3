from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kefu.tickets.tests.factories import make_ticket

from .. import services
from ..models import Incident, Link
from .conftest import declare

pytestmark = pytest.mark.django_db


def api(actor) -> Client:
    c = Client(enforce_csrf_checks=False)
    c.force_login(actor.user)
    return c


def post(c: Client, path: str, body: dict):
    return c.post(path, body, content_type="application/json")


def test_declare_bad_input_gives_a_clear_4xx_and_writes_nothing(hotline_lead, agent_js):
    now = timezone.now()
    body = {
        "title": "平台故障",
        "services": "入会",
        "symptoms": "无法入会",
        "impact": "P1",
        "started_at": (now - timedelta(minutes=20)).isoformat(),
        "detected_at": (now - timedelta(minutes=5)).isoformat(),
    }
    r = post(api(hotline_lead), "/api/incidents", body)
    assert r.status_code == 422 and r.json()["details"]["fields"][0]["field"] == "provinces"
    assert r.json()["message"] and r.json()["message_en"]
    r = post(
        api(hotline_lead),
        "/api/incidents",
        {**body, "provinces": ["js"], "started_at": (now + timedelta(hours=1)).isoformat()},
    )
    assert r.status_code == 422 and r.json()["details"]["fields"][0]["type"] == "future"
    assert post(api(agent_js), "/api/incidents", {**body, "provinces": ["js"]}).status_code == 403
    assert Incident.objects.count() == 0
    r = post(api(hotline_lead), "/api/incidents", {**body, "provinces": ["js"]})
    assert r.status_code == 201 and r.json()["provinces"] == ["js"] and r.json()["hq_notified_at"]


def test_link_ack_and_bulk_over_the_api(hotline_lead, hq_reviewer, agent_js, agent_bj):
    inc = declare(hotline_lead, slugs=("js",))
    b = services.bulletin_issue(
        actor=hq_reviewer, incident=inc, customer_script="口径", agent_guidance="指引"
    )
    t = make_ticket(agent_js)
    r = post(api(agent_js), f"/api/incidents/{inc.number}/links", {"ticket": t.number})
    assert r.status_code == 201 and r.json()["ticket"] == t.number
    # A Beijing agent does not see the incident at all: the 404 of a missing one.
    r = post(api(agent_bj), f"/api/incidents/{inc.number}/links", {"ticket": make_ticket(agent_bj).number})
    assert r.status_code == 404 and Link.objects.unscoped("test").count() == 1
    assert (
        post(api(agent_js), f"/api/incidents/{inc.number}/bulletins/{b.version}/ack", {}).status_code == 200
    )
    r = post(api(hotline_lead), f"/api/incidents/{inc.number}/bulk-resolve", {})
    assert r.status_code == 409 and r.json()["code"] == "incident_open"
    r = post(
        api(hotline_lead),
        f"/api/incidents/{inc.number}/status",
        {"status": "resolved", "resolution_text": "已恢复"},
    )
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    r = post(api(agent_js), f"/api/incidents/{inc.number}/links", {"ticket": make_ticket(agent_js).number})
    assert r.status_code == 409 and r.json()["code"] == "incident_closed"
    r = post(api(hotline_lead), f"/api/incidents/{inc.number}/bulk-resolve", {})
    assert r.status_code == 200 and r.json() == {"done": 1, "already": 0, "failed": [], "queued": 0}
    r = post(api(hotline_lead), f"/api/incidents/{inc.number}/bulk-resolve", {})
    assert r.status_code == 409 and r.json()["code"] == "bulk_done"
    rev = api(hq_reviewer).get(f"/api/incidents/{inc.number}/review").json()
    assert rev["total"] == 1 and rev["per_province"] == {"江苏": 1}
