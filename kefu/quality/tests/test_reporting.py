"""Quality figures in the reports: the dashboard panel and the monthly Excel (the mail's attachment), by scope."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from kefu.core.scope import Scope
from kefu.org.models import Province, Role
from kefu.quality import reporting, services
from kefu.quality.models import Inspection
from kefu.tickets import services as tickets
from kefu.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db
MONTH = timezone.localdate().replace(day=1)


def inspected(agent, lead, *, lose: int = 0, appeal: bool = False, warned: bool = False):
    t = make_ticket(agent)
    text = "不是跟你说了吗，先升级客户端。" if warned else "您好，已为您登记，我们会尽快处理。"
    tickets.ticket_reply(actor=agent, ticket=t, method="call_back", content=text, norms_confirmed=warned)
    services.sample_month(actor=lead, month=MONTH)
    ins = Inspection.objects.unscoped("test").get(contact_id=str(t.pk))
    marks = {i.code: i.weight for i in services.items_for(ins)}
    marks["5.3"] -= lose
    ins = services.inspection_score(actor=lead, inspection=ins, points=marks)
    if appeal:
        ins = services.inspection_appeal(actor=agent, inspection=ins, reason="语气正常")
        services.inspection_decide(actor=lead, inspection=ins, final_score=100, comment="改判")
    else:
        services.inspection_acknowledge(actor=agent, inspection=ins)


@pytest.fixture
def two_provinces(agent_bj, agent_sh, make_actor):
    lead_bj = make_actor("lead_bj", "desk_bj", Role.SUPERVISOR)
    lead_sh = make_actor("lead_sh", "desk_sh", Role.SUPERVISOR)
    inspected(agent_bj, lead_bj, lose=10, warned=True)  # 90.0
    inspected(agent_sh, lead_sh, lose=5, appeal=True)  # scored 95.0, decided 100
    return lead_bj, lead_sh


def test_summary_counts_scores_clauses_appeals_and_violations_per_scope(two_provinces):
    national = reporting.summary(Scope.everything(), MONTH, MONTH)
    assert (national.inspected, national.final, national.appeals) == (2, 2, 1)
    assert str(national.average) == "95.0"  # (90 + 100) / 2, final scores
    clause = {c.code: c for c in national.clauses}["5.3"]
    assert clause.scored == 2 and clause.lost_percent is not None and clause.lost_percent > 0
    assert [(sev, n) for _label, sev, n in national.violations] == [("warn", 1)]
    bj = Province.objects.get(slug="bj")
    own = reporting.summary(Scope.provinces([bj.pk]), MONTH, MONTH)
    assert (own.inspected, own.appeals, str(own.average)) == (1, 0, "90.0")
    assert (
        own.violations
        and not reporting.summary(
            Scope.provinces([Province.objects.get(slug="sh").pk]), MONTH, MONTH
        ).violations
    )


def test_dashboard_shows_the_readers_scope_only(two_provinces, hq_analyst):
    lead_bj, _lead_sh = two_provinces
    c = Client()
    c.force_login(hq_analyst.user)
    page = c.get("/reports/").content.decode()
    assert 'data-testid="quality-summary"' in page and 'data-testid="quality-average">95.0<' in page
    c.force_login(lead_bj.user)
    page = c.get("/reports/").content.decode()
    assert 'data-testid="quality-average">90.0<' in page


def test_monthly_excel_has_a_quality_sheet_of_the_readers_province(two_provinces):
    _lead_bj, lead_sh = two_provinces
    c = Client()
    c.force_login(lead_sh.user)
    book = load_workbook(BytesIO(c.get(f"/reports/monthly/export.xlsx?month={MONTH:%Y-%m}").content))
    assert "服务质检" in book.sheetnames
    figures = {r[0]: r[1] for r in book["服务质检"].iter_rows(min_row=3, max_row=8, values_only=True)}
    assert figures["抽检数"] == 1 and figures["平均得分"] == 100 and figures["申诉"] == 1
