"""The lexicon API: everyone reads, HQ publishes complete versions (stale base 409, bad rows 422), a trial check."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from kefu.core.models import AuditEvent
from kefu.norms.models import LexiconVersion, Screening

pytestmark = pytest.mark.django_db


def client(actor) -> Client:
    c = Client()
    c.force_login(actor.user)
    return c


def post(actor, path, body):
    return client(actor).post(f"/api/norms{path}", json.dumps(body), content_type="application/json")


def test_agents_read_the_lexicon_in_force_and_its_versions(agent_bj):
    r = client(agent_bj).get("/api/norms/lexicon")
    assert r.status_code == 200
    body = r.json()
    assert body["number"] == 1 and any(x["pattern"] == "别再来问了" for x in body["rules"])
    assert body["templates"] and set(body["templates"][0]) == {"channel", "purpose", "text"}
    versions = client(agent_bj).get("/api/norms/lexicon/versions").json()
    assert [(v["number"], v["in_force"]) for v in versions] == [(1, True)]


def test_hq_publishes_a_new_version_on_top_of_the_one_it_read(hq_reviewer):
    current = client(hq_reviewer).get("/api/norms/lexicon").json()
    rules = current["rules"] + [
        {
            "category": "shirking",
            "severity": "warn",
            "pattern": "找别的部门去",
            "suggestion": "我帮您联系相关部门。",
        }
    ]
    r = post(
        hq_reviewer,
        "/lexicon",
        {"base_version": 1, "rules": rules, "templates": current["templates"], "note": "api"},
    )
    assert r.status_code == 201 and r.json()["number"] == 2
    assert AuditEvent.objects.filter(verb="norms.lexicon_published").count() == 1
    check = post(hq_reviewer, "/check", {"text": "你找别的部门去", "channel": "ticket"}).json()
    assert check["outcome"] == "warn" and check["version"] == 2
    # the same edit again, still based on v1: someone (we) published since
    stale = post(
        hq_reviewer, "/lexicon", {"base_version": 1, "rules": rules, "templates": current["templates"]}
    )
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    assert LexiconVersion.objects.count() == 2


def test_bad_rows_are_refused_with_row_and_reason_nothing_written(hq_reviewer):
    current = client(hq_reviewer).get("/api/norms/lexicon").json()
    rules = current["rules"] + [
        {"category": "banned", "severity": "block", "pattern": "！", "suggestion": "x"},
        {"category": "banned", "severity": "block", "pattern": "", "suggestion": "x"},
    ]
    r = post(hq_reviewer, "/lexicon", {"base_version": 1, "rules": rules, "templates": current["templates"]})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "lexicon_invalid" and body["message_en"]
    assert {d["row"] for d in body["details"]["fields"]} == {len(rules) - 1, len(rules)}
    assert LexiconVersion.objects.count() == 1 and not AuditEvent.objects.filter(
        verb="norms.lexicon_published"
    )
    unknown = post(hq_reviewer, "/lexicon", {"base_version": 1, "rules": [], "templates": [], "extra": 1})
    assert unknown.status_code == 422 and set(unknown.json()) == {"code", "message", "message_en", "details"}


def test_agents_cannot_publish(agent_bj):
    r = post(agent_bj, "/lexicon", {"base_version": 1, "rules": [], "templates": []})
    assert r.status_code == 403 and LexiconVersion.objects.count() == 1


def test_trial_check_names_phrase_and_suggestion_and_records_nothing(agent_bj):
    r = post(agent_bj, "/check", {"text": "別 再 來 问 了！", "channel": "chat"})
    assert r.status_code == 200
    body = r.json()
    assert body["outcome"] == "block" and body["hits"][0]["phrase"] == "別 再 來 问 了"
    assert body["hits"][0]["suggestion"]
    assert not Screening.objects.exists()
    assert post(agent_bj, "/check", {"text": "x", "channel": "fax"}).status_code == 422
    assert post(agent_bj, "/check", {"text": "", "channel": "chat"}).status_code == 422
