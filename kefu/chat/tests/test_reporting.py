"""Chats in the reports: the 咨询 row of the monthly table, the dashboard box, the monthly Excel sheet."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.test import Client
from django.utils import timezone

from kefu.chat import reporting
from kefu.chat.models import Conversation
from kefu.core.scope import Scope
from kefu.customers.models import Contact, Customer
from kefu.org.models import Province, Team
from kefu.reports import export, layout, selectors

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def conv(*, province: Province | None, kb: bool = True, at: datetime | None = None, **kw) -> Conversation:
    contact = None
    if province is not None:
        cust = Customer.objects.create(
            name=f"客户{province.slug}{Customer.objects.unscoped('t').count()}",
            account_number=f"A{Customer.objects.unscoped('t').count()}-{province.slug}",
            province=province,
        )
        contact = Contact.objects.create(customer=cust, name="联系人")
    return Conversation.objects.create(
        team=Team.objects.get(code="online"),
        status="closed",
        visitor_name="访客",
        possible_contact=contact,
        kb_answered=kb,
        created_at=at or timezone.now(),
        **kw,
    )


def kb_row(table: layout.MonthlyTable) -> dict[str, int]:
    row = next(r for r in table.rows if r.kind == layout.KB)
    return {c.key: v for c, v in zip(table.columns, row.values, strict=True)}


def test_conversations_answered_from_the_knowledge_base_count_in_the_consultation_row():
    sh, bj = Province.objects.get(slug="sh"), Province.objects.get(slug="bj")
    dec = datetime(2026, 12, 10, 10, 0, tzinfo=SH)
    conv(province=sh, at=dec)
    conv(province=sh, at=dec)
    conv(province=bj, at=dec)
    conv(province=None, at=dec)  # no known customer: 全国 only
    conv(province=sh, kb=False, at=dec)  # not answered from the knowledge base
    conv(province=sh, at=datetime(2026, 11, 30, 23, 59, tzinfo=SH))  # November in Beijing time
    month = datetime(2026, 12, 1).date()
    national = kb_row(selectors.monthly_table(selectors.audience(Scope.everything()), month))
    assert national["national"] == 4 and national["sh"] == 2 and national["bj"] == 1
    direct = kb_row(selectors.monthly_table_direct(selectors.audience(Scope.everything()), month))
    assert direct == national  # the kept figures and the direct count agree
    only_sh = kb_row(selectors.monthly_table(selectors.audience(Scope.provinces([sh.pk])), month))
    assert only_sh == {"sh": 2}  # a province reader: its own customers' conversations, no 全国
    nov = kb_row(
        selectors.monthly_table(selectors.audience(Scope.everything()), datetime(2026, 11, 1).date())
    )
    assert nov["national"] == 1 and nov["sh"] == 1


def test_a_province_desk_counts_only_its_own_customers_conversations():
    sh, bj = Province.objects.get(slug="sh"), Province.objects.get(slug="bj")
    desk_sh = Team.objects.get(code="desk_sh")
    c = conv(province=bj, at=datetime(2026, 12, 3, 9, 0, tzinfo=SH))
    c.team = desk_sh
    c.save()
    counts = reporting.kb_counts(
        Scope.provinces([sh.pk]), datetime(2026, 12, 1).date(), datetime(2027, 1, 1).date()
    )
    assert counts == {}  # held by Shanghai's desk, but Beijing's customer: not Shanghai's 咨询 row
    assert reporting.kb_counts(
        Scope.provinces([bj.pk]), datetime(2026, 12, 1).date(), datetime(2027, 1, 1).date()
    ) == {bj.pk: 1}


def test_the_monthly_excel_and_so_the_mail_carry_an_online_service_sheet():
    conv(province=None, at=datetime(2026, 12, 10, 10, 0, tzinfo=SH), rating="satisfied")
    month = datetime(2026, 12, 1).date()
    aud = selectors.audience(Scope.everything())
    data = export.to_xlsx(
        selectors.monthly_table(aud, month),
        scope_label=aud.label,
        generated_at=timezone.now(),
        scope=aud.scope,
    )
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["在线客服"]
    values = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1)}
    assert values["会话总数"] == 1 and values["以知识库作答"] == 1 and values["满意"] == 1
    assert values["满意率(%)"] == 100


def test_the_dashboard_shows_the_online_service_box(hq_analyst):
    conv(province=None)
    client = Client()
    client.force_login(hq_analyst.user)
    page = client.get("/reports/")
    assert page.status_code == 200
    html = page.content.decode()
    box = html[html.index('data-testid="chat-summary"') :]
    assert '<p class="big">1</p>' in box[:300]


def test_the_monthly_mail_body_names_the_online_services_month():
    month = datetime(2026, 12, 1).date()
    assert reporting.mail_lines(Scope.everything(), month) == []  # no chats: nothing said
    conv(province=None, at=datetime(2026, 12, 10, 10, 0, tzinfo=SH), rating="satisfied")
    conv(province=None, at=datetime(2026, 12, 11, 10, 0, tzinfo=SH), rating="unsatisfied", kb=False)
    conv(province=None, at=datetime(2026, 11, 30, 10, 0, tzinfo=SH))  # November: not counted
    (line,) = reporting.mail_lines(Scope.everything(), month)
    assert "会话 2 个" in line and "以知识库作答 1 个" in line
    assert "满意率 50.0%" in line and "不满意 1" in line
