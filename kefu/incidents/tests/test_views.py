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


def client_for(actor) -> Client:
    c = Client()
    c.force_login(actor.user)
    return c


def _local(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def test_declare_form_and_bad_input(hotline_lead, agent_js):
    c = client_for(hotline_lead)
    assert c.get("/incidents/new/").status_code == 200
    now = timezone.now()
    form = {
        "title": "平台故障",
        "services": "入会",
        "symptoms": "无法入会",
        "impact": "P1",
        "started_at": _local(now - timedelta(minutes=20)),
        "detected_at": _local(now - timedelta(minutes=10)),
    }
    r = c.post("/incidents/new/", form)  # no provinces
    assert r.status_code == 422 and "请选择受影响的省份" in r.content.decode()
    r = c.post(
        "/incidents/new/", {**form, "provinces": ["js"], "started_at": _local(now + timedelta(hours=2))}
    )
    assert r.status_code == 422 and "不能晚于当前时间" in r.content.decode()
    assert Incident.objects.count() == 0
    r = c.post("/incidents/new/", {**form, "provinces": ["js"]})
    inc = Incident.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/incidents/{inc.number}/"
    assert client_for(agent_js).get("/incidents/new/").status_code == 403


def test_hq_alert_on_home_and_acknowledge(hotline_lead, hq_reviewer):
    inc = declare(hotline_lead)
    c = client_for(hq_reviewer)
    home = c.get("/").content.decode()
    assert 'data-testid="hq-alert"' in home and inc.number in home
    assert c.post(f"/incidents/{inc.number}/hq-ack/").status_code == 302
    assert 'data-testid="hq-alert"' not in c.get("/").content.decode()


def test_banner_on_workbench_and_one_click_link_from_the_order(hotline_lead, hq_reviewer, agent_js):
    inc = declare(hotline_lead, slugs=("js",))
    services.bulletin_issue(
        actor=hq_reviewer, incident=inc, customer_script="平台抢修中，请稍候", agent_guidance="关联事件"
    )
    c = client_for(agent_js)
    page = c.get("/tickets/").content.decode()
    assert 'data-testid="incident-banner"' in page and "平台抢修中，请稍候" in page
    assert 'data-testid="banner-ack"' in page
    t = make_ticket(agent_js)
    page = c.get(f"/tickets/{t.number}/").content.decode()
    assert 'data-testid="incident-suggest"' in page and inc.number in page
    r = c.post(f"/incidents/{inc.number}/link/", {"ticket": t.number, "from": "ticket"})
    assert r.status_code == 302 and r["Location"] == f"/tickets/{t.number}/"
    assert Link.objects.unscoped("test").filter(ticket_id=t.pk).exists()
    assert 'data-testid="incident-linked"' in c.get(f"/tickets/{t.number}/").content.decode()
    assert "平台抢修中，请稍候" in c.get("/tickets/new/").content.decode()


def test_public_faq_shows_the_status_notice(hotline_lead, hq_reviewer):
    inc = declare(hotline_lead)
    services.bulletin_issue(
        actor=hq_reviewer, incident=inc, customer_script="会议平台正在抢修", agent_guidance="内部"
    )
    page = Client().get("/kb/faq/").content.decode()
    assert "会议平台正在抢修" in page and "内部" not in page.split("faq-incident-notice")[1][:500]


def test_ack_not_addressed_is_403_and_review_pages(hotline_lead, hq_reviewer, agent_js, make_actor):
    inc = declare(hotline_lead, slugs=("js",), all_provinces=False)
    b = services.bulletin_issue(actor=hq_reviewer, incident=inc, customer_script="a", agent_guidance="b")
    am = make_actor("am_js", "am_js", "account_manager")
    r = client_for(am).post(f"/incidents/{inc.number}/bulletin/{b.version}/ack/")
    assert r.status_code == 403
    r = client_for(agent_js).post(f"/incidents/{inc.number}/bulletin/{b.version}/ack/")
    assert r.status_code == 302
    c = client_for(hq_reviewer)
    assert c.get(f"/incidents/{inc.number}/").status_code == 200
    assert c.get(f"/incidents/{inc.number}/review/").status_code == 200
    x = c.get(f"/incidents/{inc.number}/review.xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"
