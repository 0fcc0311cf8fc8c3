"""Sampling, scoring, the agent's acknowledgement or appeal, the supervisor's decision; scoping; the report."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from kefu.core.errors import Forbidden, IllegalTransition, NotFound, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.org.models import Role
from kefu.quality import selectors, services
from kefu.quality.models import Inspection, ItemScore, Reason, SamplingSetting, ScoreItem, Status
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


def replied(actor, n=1, **kw):
    out = []
    for _ in range(n):
        t = make_ticket(actor, **kw)
        tickets.ticket_reply(
            actor=actor, ticket=t, method="call_back", content="您好，已为您登记，我们会尽快处理。"
        )
        out.append(t)
    return out


def full_marks(ins):
    return {i.code: i.weight for i in services.items_for(ins)}


def test_sampling_takes_n_per_agent_plus_every_warned_and_attitude_contact_once(agent_bj, lead_bj):
    SamplingSetting.objects.update(samples_per_agent=2)
    plain = replied(agent_bj, 5)
    warned = make_ticket(agent_bj)
    tickets.ticket_reply(
        actor=agent_bj,
        ticket=warned,
        method="call_back",
        content="不是跟你说了吗，先升级。",
        norms_confirmed=True,
    )
    attitude = replied(agent_bj, 1, subject="投诉坐席服务态度差")[0]
    created = services.sample_month(actor=lead_bj, month=MONTH)
    rows = {i.contact_id: i for i in Inspection.objects.unscoped("test")}
    assert rows[str(warned.pk)].reason == Reason.WARNING
    assert rows[str(attitude.pk)].reason == Reason.ATTITUDE
    randoms = [i for i in rows.values() if i.reason == Reason.RANDOM]
    assert len(randoms) == 2 and all(
        int(i.contact_id) in {t.pk for t in plain + [warned, attitude]} for i in randoms
    )
    assert created == len(rows)
    assert services.sample_month(actor=lead_bj, month=MONTH) == 0  # idempotent
    assert all(i.province.slug == "bj" and i.agent == agent_bj.user for i in rows.values())


def test_a_province_samples_only_its_own_desk(agent_bj, agent_sh, lead_sh):
    replied(agent_bj, 2)
    replied(agent_sh, 1)
    services.sample_month(actor=lead_sh, month=MONTH)
    assert {i.agent for i in Inspection.objects.unscoped("test")} == {agent_sh.user}


def test_score_ack_flow_and_the_final_score_is_kept(agent_bj, lead_bj):
    replied(agent_bj, 1)
    services.sample_month(actor=lead_bj, month=MONTH)
    ins = Inspection.objects.unscoped("test").get()
    marks = full_marks(ins)
    marks["5.3"] = 15  # 10 off of 25
    ins = services.inspection_score(actor=lead_bj, inspection=ins, points=marks, comment="语气生硬")
    assert ins.status == Status.SCORED and str(ins.score) == "90.0"
    assert ItemScore.objects.unscoped("test").filter(inspection=ins).count() == len(marks)
    ins = services.inspection_acknowledge(actor=agent_bj, inspection=ins)
    assert ins.status == Status.FINAL and str(ins.final_score) == "90.0"
    with pytest.raises(IllegalTransition):
        services.inspection_appeal(actor=agent_bj, inspection=ins, reason="晚了")


def test_appeal_and_decision(agent_bj, lead_bj):
    replied(agent_bj, 1)
    services.sample_month(actor=lead_bj, month=MONTH)
    ins = Inspection.objects.unscoped("test").get()
    marks = full_marks(ins)
    marks["5.1"] = 0
    ins = services.inspection_score(actor=lead_bj, inspection=ins, points=marks)
    with pytest.raises(ValidationFailed):
        services.inspection_appeal(actor=agent_bj, inspection=ins, reason=" ")
    with pytest.raises(Forbidden):
        services.inspection_appeal(actor=lead_bj, inspection=ins, reason="不是我")
    ins = services.inspection_appeal(actor=agent_bj, inspection=ins, reason="答复中使用了规范用语，请复核")
    assert ins.status == Status.APPEALED
    with pytest.raises(ValidationFailed):
        services.inspection_decide(actor=lead_bj, inspection=ins, final_score="95", comment="")
    with pytest.raises(ValidationFailed):
        services.inspection_decide(actor=lead_bj, inspection=ins, final_score="101", comment="x")
    ins = services.inspection_decide(
        actor=lead_bj, inspection=ins, final_score="95", comment="复核属实，改判"
    )
    assert ins.status == Status.FINAL and str(ins.final_score) == "95.0" and str(ins.score) == "80.0"
    verbs = list(
        AuditEvent.objects.filter(target_type="quality.inspection", target_id=str(ins.pk)).values_list(
            "verb", flat=True
        )
    )
    assert verbs == ["quality.sampled", "quality.scored", "quality.appealed", "quality.decided"]


def test_bad_scores_are_refused_and_nothing_written(agent_bj, lead_bj):
    replied(agent_bj, 1)
    services.sample_month(actor=lead_bj, month=MONTH)
    ins = Inspection.objects.unscoped("test").get()
    for bad in ({"5.1": "abc"}, {"5.1": "-1"}, {"5.1": "21"}, {"5.1": "NaN"}, {}):
        marks = {**full_marks(ins), **bad}
        if not bad:
            marks.pop("5.2")
        with pytest.raises(ValidationFailed):
            services.inspection_score(actor=lead_bj, inspection=ins, points=marks)
    ins.refresh_from_db()
    assert ins.status == Status.PENDING and not ItemScore.objects.unscoped("test").exists()


def test_no_one_inspects_themselves_and_agents_do_not_inspect(agent_bj, lead_bj):
    replied(lead_bj, 1)
    services.sample_month(actor=lead_bj, month=MONTH)
    ins = Inspection.objects.unscoped("test").get()
    with pytest.raises(Forbidden):
        services.inspection_score(actor=lead_bj, inspection=ins, points=full_marks(ins))
    with pytest.raises(Forbidden):
        services.inspection_score(actor=agent_bj, inspection=ins, points=full_marks(ins))


def test_another_province_gets_the_404_of_a_missing_one(agent_bj, lead_bj, lead_sh, agent_sh):
    replied(agent_bj, 1)
    services.sample_month(actor=lead_bj, month=MONTH)
    ins = Inspection.objects.unscoped("test").get()
    for who in (lead_sh, agent_sh):
        with pytest.raises(NotFound):
            services.inspection_for(who, ins.pk)
    assert services.inspection_for(agent_bj, ins.pk) == ins  # the agent sees their own


def test_weights_are_editable_and_audited(hq_reviewer, agent_bj, lead_bj):
    item = ScoreItem.objects.get(code="5.3")
    services.item_weight_set(actor=hq_reviewer, item=item, weight="30")
    assert ScoreItem.objects.get(code="5.3").weight == 30
    with pytest.raises(Forbidden):
        services.item_weight_set(actor=agent_bj, item=item, weight="10")
    with pytest.raises(ValidationFailed):
        services.item_weight_set(actor=hq_reviewer, item=item, weight="x")


def test_report_per_agent_violations_and_blocked_phrases_and_excel(agent_bj, lead_bj):
    t = replied(agent_bj, 1)[0]
    with pytest.raises(ValidationFailed):
        tickets.ticket_reply(actor=agent_bj, ticket=t, method="call_back", content="别再来问了")
    services.sample_month(actor=lead_bj, month=MONTH)
    ins = Inspection.objects.unscoped("test").get()
    assert ins.reason == Reason.BLOCKED
    ins = services.inspection_score(actor=lead_bj, inspection=ins, points=full_marks(ins))
    services.inspection_acknowledge(actor=agent_bj, inspection=ins)
    data = selectors.report(lead_bj, MONTH)
    assert [(r.label, r.count, r.final, str(r.average)) for r in data["by_agent"]] == [
        ("agent_bj", 1, 1, "100.0")
    ]
    assert data["top_blocked"] == [("别再来问了", 1)]
    assert data["violations"][0][2] == 1
    c = Client()
    c.force_login(lead_bj.user)
    wb = load_workbook(io.BytesIO(c.get("/quality/report.xlsx", {"month": f"{MONTH:%Y-%m}"}).content))
    assert wb.worksheets[0]["A2"].value == "agent_bj"


def test_views_score_appeal_decide(agent_bj, lead_bj):
    replied(agent_bj, 1)
    lead, agent = Client(), Client()
    lead.force_login(lead_bj.user)
    agent.force_login(agent_bj.user)
    assert lead.post("/quality/sample/", {"month": f"{MONTH:%Y-%m}"}).status_code == 302
    ins = Inspection.objects.unscoped("test").get()
    body = {f"item_{k}": v for k, v in full_marks(ins).items()} | {"item_5.6": "0", "comment": "未致谢"}
    assert lead.post(f"/quality/{ins.pk}/act/score/", body).status_code == 302
    page = agent.get(f"/quality/{ins.pk}/").content.decode()
    assert 'data-testid="quality-appeal"' in page and "90.0" in page
    assert agent.post(f"/quality/{ins.pk}/act/appeal/", {"reason": "结束时已致谢"}).status_code == 302
    assert (
        lead.post(
            f"/quality/{ins.pk}/act/decide/", {"final_score": "100", "comment": "录音核实已致谢"}
        ).status_code
        == 302
    )
    ins.refresh_from_db()
    assert ins.status == Status.FINAL and str(ins.final_score) == "100.0"
    r = lead.post(f"/quality/{ins.pk}/act/decide/", {"final_score": "90", "comment": "x"})
    assert r.status_code == 409


def test_month_parameter_is_checked(lead_bj):
    c = Client()
    c.force_login(lead_bj.user)
    assert c.get("/quality/", {"month": "2026-13"}).status_code == 422
    assert c.get("/quality/", {"month": date(2026, 1, 1).strftime("%Y-%m")}).status_code == 200
