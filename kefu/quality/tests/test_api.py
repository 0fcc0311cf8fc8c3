"""The inspections API: scoped lists, score → appeal → decide and score → acknowledge, refusals with nothing changed."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone

from kefu.core.models import AuditEvent
from kefu.org.models import Role
from kefu.quality import services
from kefu.quality.models import Inspection, Status
from kefu.tickets import services as tickets
from kefu.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db
MONTH = timezone.localdate().replace(day=1)


@pytest.fixture
def lead_bj(make_actor):
    return make_actor("lead_bj", "desk_bj", Role.SUPERVISOR)


@pytest.fixture
def lead_sh(make_actor):
    return make_actor("lead_sh", "desk_sh", Role.SUPERVISOR)


def client(actor) -> Client:
    c = Client()
    c.force_login(actor.user)
    return c


def post(actor, path, body):
    return client(actor).post(f"/api/quality{path}", json.dumps(body), content_type="application/json")


def sampled(agent, lead):
    t = make_ticket(agent)
    tickets.ticket_reply(
        actor=agent, ticket=t, method="call_back", content="您好，已为您登记，我们会尽快处理。"
    )
    services.sample_month(actor=lead, month=MONTH)
    return Inspection.objects.unscoped("test").get(contact_id=str(t.pk))


def full_marks(ins):
    return {i.code: i.weight for i in services.items_for(ins)}


def test_lists_are_scoped_and_agents_see_their_own(agent_bj, agent_sh, lead_bj, lead_sh):
    mine, theirs = sampled(agent_bj, lead_bj), sampled(agent_sh, lead_sh)
    assert [r["id"] for r in client(lead_bj).get("/api/quality/inspections").json()] == [mine.pk]
    assert [
        r["id"] for r in client(agent_bj).get(f"/api/quality/inspections?month={MONTH:%Y-%m}").json()
    ] == [mine.pk]
    assert client(lead_bj).get(f"/api/quality/inspections/{theirs.pk}").status_code == 404
    assert client(agent_bj).get("/api/quality/inspections?month=2026-13").status_code == 422
    assert client(agent_bj).get("/api/quality/inspections?limit=0").status_code == 422


def test_score_appeal_decide_through_the_api(agent_bj, lead_bj):
    ins = sampled(agent_bj, lead_bj)
    marks = full_marks(ins)
    marks["5.3"] = 15
    r = post(
        lead_bj,
        f"/inspections/{ins.pk}/score",
        {"points": marks, "comment": "语气生硬", "version": ins.version},
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == Status.SCORED and body["score"] == "90.0"
    assert {i["code"]: i["points"] for i in body["items"]}["5.3"] == "15.0"
    # the agent may not decide, the inspector may not appeal
    assert (
        post(agent_bj, f"/inspections/{ins.pk}/decide", {"final_score": 100, "comment": "x"}).status_code
        == 403
    )
    assert post(lead_bj, f"/inspections/{ins.pk}/appeal", {"reason": "x"}).status_code == 403
    r = post(
        agent_bj,
        f"/inspections/{ins.pk}/appeal",
        {"reason": "客户先骂人，我语气正常", "version": body["version"]},
    )
    assert r.status_code == 200 and r.json()["status"] == Status.APPEALED
    stale = post(
        lead_bj,
        f"/inspections/{ins.pk}/decide",
        {"final_score": 95, "comment": "改判", "version": body["version"]},
    )
    assert stale.status_code == 409
    r = post(lead_bj, f"/inspections/{ins.pk}/decide", {"final_score": 95, "comment": "改判"})
    assert r.status_code == 200 and r.json()["status"] == Status.FINAL and r.json()["final_score"] == "95.0"
    assert AuditEvent.objects.filter(verb="quality.decided", target_id=str(ins.pk)).count() == 1


def test_acknowledge_keeps_the_score(agent_bj, lead_bj):
    ins = sampled(agent_bj, lead_bj)
    post(lead_bj, f"/inspections/{ins.pk}/score", {"points": full_marks(ins)})
    r = post(agent_bj, f"/inspections/{ins.pk}/acknowledge", {})
    assert r.status_code == 200 and r.json()["final_score"] == "100.0"


def test_bad_scores_are_refused_and_nothing_changes(agent_bj, lead_bj):
    ins = sampled(agent_bj, lead_bj)
    marks = full_marks(ins)
    code = next(iter(marks))
    events = AuditEvent.objects.count()
    over = {**marks, code: marks[code] + 1}
    r = post(lead_bj, f"/inspections/{ins.pk}/score", {"points": over})
    assert r.status_code == 422 and r.json()["details"]["fields"][0]["field"] == f"item_{code}"
    missing = {k: v for k, v in marks.items() if k != code}
    assert post(lead_bj, f"/inspections/{ins.pk}/score", {"points": missing}).status_code == 422
    assert post(lead_bj, f"/inspections/{ins.pk}/score", {"points": marks, "bogus": 1}).status_code == 422
    assert post(lead_bj, f"/inspections/{ins.pk}/acknowledge", {}).status_code == 403
    fresh = Inspection.objects.unscoped("test").get(pk=ins.pk)
    assert (
        fresh.status == Status.PENDING
        and fresh.version == ins.version
        and AuditEvent.objects.count() == events
    )
