"""Web pages and API: audiences, 404 for other provinces, exports, charts, CSP, the mail page."""

import io
import json
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.core import mail
from django.utils import timezone

from conftest import login_client
from kefu.core.errors import not_found_body
from kefu.org.models import Team, Unit
from kefu.reports import charts, rollup, service_level
from kefu.reports.models import OutboundMail, Recipient
from kefu.sla import services as sla

from .factories import ticket

SH = ZoneInfo("Asia/Shanghai")
Q = "?month=2026-10"


@pytest.fixture
def october(db):
    ticket(slug="js", at=datetime(2026, 10, 3, tzinfo=SH), cat="cf_usage_login")
    ticket(slug="js", at=datetime(2026, 10, 4, tzinfo=SH), cat="cf_incident", kind="fault", channel="hotline")
    ticket(slug="bj", at=datetime(2026, 10, 5, tzinfo=SH), cat="cf_usage_bill")
    ticket(slug="bj", at=datetime(2026, 9, 5, tzinfo=SH), cat="cf_usage_bill")
    rollup.run(now=timezone.now())


def columns_of(html: str) -> list[str]:
    return re.findall(r'data-col="([^"]+)"', html)


def no_inline_style_or_script(html: str) -> None:
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


def test_hq_sees_national_and_every_province(client, hq_analyst, october):
    r = login_client(client, hq_analyst).get("/reports/monthly/" + Q)
    assert r.status_code == 200
    html = r.content.decode()
    cols = columns_of(html)
    assert cols[:3] == ["national", "bj", "tj"] and len(cols) == 32
    no_inline_style_or_script(html)
    assert "default-src 'self'" in r["Content-Security-Policy"]


def test_province_reader_sees_only_its_own_column(client, lead_js, october):
    r = login_client(client, lead_js).get("/reports/monthly/" + Q)
    assert r.status_code == 200
    assert columns_of(r.content.decode()) == ["js"]
    assert client.get("/reports/monthly/js/" + Q).status_code == 200


@pytest.mark.parametrize("suffix", ["", "export.xlsx", "export.csv"])
def test_another_province_is_the_404_of_an_unknown_one(client, lead_js, october, suffix):
    login_client(client, lead_js)
    denied = client.get(f"/reports/monthly/bj/{suffix}{Q}")
    missing = client.get(f"/reports/monthly/zz/{suffix}{Q}")
    assert denied.status_code == missing.status_code == 404
    strip = lambda b: re.sub(rb'value="[^"]*"|"X-CSRFToken": "[^"]*"', b"", b).replace(b"/bj/", b"/zz/")  # noqa: E731
    assert strip(denied.content) == strip(missing.content)


def test_role_without_report_permission_is_refused(client, agent_js, october):
    assert login_client(client, agent_js).get("/reports/monthly/").status_code == 403
    assert client.get("/api/reports/monthly").status_code == 403


def test_province_excel_export_has_one_column(client, lead_js, october):
    r = login_client(client, lead_js).get("/reports/monthly/export.xlsx" + Q)
    assert r.status_code == 200
    assert r["Content-Disposition"] == 'attachment; filename="kefu-monthly-2026-10-js.xlsx"'
    ws = openpyxl.load_workbook(io.BytesIO(r.content))["月报表"]
    assert ws.cell(3, 4).value == "江苏" and ws.cell(3, 5).value is None
    assert ws.cell(1, 1).value.endswith("（2026年10月，江苏）")


def test_national_csv_export(client, hq_analyst, october):
    r = login_client(client, hq_analyst).get("/reports/monthly/export.csv" + Q)
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("分类1,分类2,分类3,全国,北京,天津")
    total = next(line for line in lines if ",合计," in line).split(",")
    assert total[3:5] == ["3", "1"]  # 全国 3, 北京 1 (September is not October)


def test_api_monthly_scoped(client, lead_js, october):
    login_client(client, lead_js)
    body = client.get("/api/reports/monthly" + Q).json()
    assert body["scope"] == "js" and [c["key"] for c in body["columns"]] == ["js"]
    total = next(r for r in body["rows"] if r["kind"] == "total")
    assert total["values"] == [2]
    denied = client.get("/api/reports/monthly/bj" + Q)
    assert denied.status_code == 404 and denied.json() == not_found_body()
    assert client.get("/api/reports/monthly?month=2026-13").status_code == 422
    assert client.get("/api/reports/monthly?provinces=bj").status_code == 400


def test_dashboard_filters_and_charts(client, hq_analyst, october):
    login_client(client, hq_analyst)
    r = client.get("/reports/?month_from=2026-09&month_to=2026-10&kind=complaint")
    assert r.status_code == 200
    html = r.content.decode()
    no_inline_style_or_script(html)
    assert 'data-testid="trend-total">3<' in html  # complaints: bj Sep, bj Oct, js Oct
    assert client.get("/reports/?month_from=2026-10&month_to=2026-10&province=js").status_code == 200
    data = client.get("/api/reports/dashboard?month_from=2026-10&month_to=2026-10&channel=hotline").json()
    assert data["trend"] == [{"label": "2026-10", "value": 1}]
    assert data["province_ranking"][0] == {"label": "江苏", "value": 1}
    for name in ("trend", "top", "ranking", "ontime"):
        svg = client.get(f"/reports/charts/{name}.svg?month_from=2026-09&month_to=2026-10")
        assert svg.status_code == 200 and svg["Content-Type"].startswith("image/svg+xml")
        assert svg["Content-Security-Policy"] == charts.SVG_CSP
        assert b"<script" not in svg.content and b"<svg" in svg.content
    assert client.get("/reports/charts/nope.svg").status_code == 404
    assert client.get("/reports/?month_from=2020-01&month_to=2026-10").status_code == 422


def test_province_reader_dashboard_cannot_filter_another_province(client, lead_js, october):
    login_client(client, lead_js)
    r = client.get("/reports/?month_from=2026-09&month_to=2026-10")
    assert r.status_code == 200
    html = r.content.decode()
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    assert 'name="province"' not in main and "北京" not in main
    assert client.get("/reports/?province=bj").status_code == 404
    assert client.get("/reports/charts/ranking.svg?province=bj").status_code == 404
    ranking = client.get("/api/reports/dashboard?month_from=2026-09&month_to=2026-10").json()[
        "province_ranking"
    ]
    assert ranking == [{"label": "江苏", "value": 2}]
    assert client.get("/api/reports/dashboard?province=bj").status_code == 404


def _complaint_clock(owner_id, team_code, province, start, stop):
    team = Team.objects.get(code=team_code)
    sla.clock_start(
        owner_type="test.order",
        owner_id=owner_id,
        kind="resolve",
        ticket_kind="complaint",
        team=team,
        province=team.province or province,
        now=start,
    )
    sla.clock_stop(owner_type="test.order", owner_id=owner_id, kind="resolve", now=stop)


def test_service_level_rates_and_late_orders(client, hq_analyst, lead_js, db):
    from kefu.org.models import Province

    js = Province.objects.get(slug="js")
    start = datetime(2026, 10, 5, 9, tzinfo=SH)
    for i in range(49):
        _complaint_clock(i, "desk_js", js, start, start + timedelta(hours=1))
    _complaint_clock(100, "desk_js", js, start, start + timedelta(days=9))  # late
    _complaint_clock(101, "hotline", js, start, start + timedelta(hours=2))  # hotline, for Jiangsu
    _complaint_clock(102, "desk_bj", None, start, start + timedelta(days=9))  # Beijing, late
    from kefu.core.scope import Scope

    report = service_level.service_level(Scope.provinces([js.pk]), date(2026, 10, 1))
    assert (report.overall.met, report.overall.late) == (50, 1)
    assert str(report.overall.rate) == "98.04" and not report.overall.below_target
    assert {r.key: (r.met, r.late) for r in report.by_team} == {"desk_js": (49, 1), "hotline": (1, 0)}
    assert [o.label for o in report.late] == ["test.order#100"]

    national = service_level.service_level(Scope.everything(), date(2026, 10, 1))
    assert (national.overall.met, national.overall.late) == (50, 2) and national.overall.below_target

    html = login_client(client, lead_js).get("/reports/service-level/" + Q).content.decode()
    assert "test.order#100" in html and "test.order#102" not in html
    api = client.get("/api/reports/service-level" + Q).json()
    assert api["overall"]["rate"] == 98.04 and [o["label"] for o in api["late"]] == ["test.order#100"]


def test_mail_page_and_button(client, admin_actor, lead_js, settings, october):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Recipient.objects.create(unit=Unit.objects.get(code="branch_js"), name="江苏", email="js@example.cn")
    assert login_client(client, lead_js).get("/reports/mail/").status_code == 403
    login_client(client, admin_actor)
    assert client.get("/reports/mail/").status_code == 200
    r = client.post("/reports/mail/", {"month": "2026-10"})
    assert r.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["js@example.cn"]
    client.post("/reports/mail/", {"month": "2026-10"})
    assert len(mail.outbox) == 1 and OutboundMail.objects.count() == 1
    page = client.get("/reports/mail/").content.decode()
    assert "js@example.cn" in page and "已发送" in page
    assert json.loads(client.get("/api/reports/outbox").content)[0]["status"] == "sent"


def test_home_panel_shows_last_months_total_in_scope(client, lead_js, agent_js, db):
    from kefu.reports import months

    start, _ = months.bounds(months.previous_month(timezone.now()))
    ticket(slug="js", at=start + timedelta(days=2))
    ticket(slug="bj", at=start + timedelta(days=2))
    rollup.run(now=timezone.now())
    html = login_client(client, lead_js).get("/").content.decode()
    panel = html.split('data-panel="reports-last-month"', 1)[1].split("</section>", 1)[0]
    assert "江苏 · 合计" in panel and '<p class="big">1</p>' in panel
    assert 'data-panel="reports-last-month"' not in login_client(client, agent_js).get("/").content.decode()


def test_a_province_administrator_cannot_open_the_national_outbox(client, make_actor, db):
    from kefu.org.models import Role

    province_admin = make_actor("admin_js", "desk_js", Role.ADMIN)
    login_client(client, province_admin)
    assert client.get("/reports/mail/").status_code == 403
    assert client.post("/reports/mail/retry/").status_code == 403
    assert client.get("/api/reports/outbox").status_code == 403


def test_the_late_list_agrees_with_the_rates_for_a_clock_paused_after_its_deadline(db):
    """The rate counts a clock paused after its deadline (before a sweep saw it) as late; the list of orders
    that broke the target must name it too (one late rule: kefu.sla.rates.late_q)."""
    from kefu.core.scope import Scope
    from kefu.org.models import Province

    js = Province.objects.get(slug="js")
    desk_js = Team.objects.get(code="desk_js")
    t = datetime(2026, 10, 5, 9, tzinfo=SH)
    sla.clock_start(
        owner_type="test.order",
        owner_id=7,
        kind="resolve",
        ticket_kind="complaint",
        team=desk_js,
        province=js,
        now=t,
    )
    sla.clock_pause(owner_type="test.order", owner_id=7, kind="resolve", now=t + timedelta(hours=50))
    report = service_level.service_level(
        Scope.provinces([js.pk]), date(2026, 10, 1), now=datetime(2026, 10, 20, 12, tzinfo=SH)
    )
    assert (report.overall.met, report.overall.late) == (0, 1)
    assert [o.label for o in report.late] == ["test.order#7"]


def test_the_report_scope_comes_from_the_seats_that_may_read_reports(client, october, make_actor):
    """A Jiangsu supervisor who is also a hotline agent (a national seat without reports.view) reads Jiangsu's
    figures only: the report right is the Jiangsu seat's, so the hotline seat must not widen it to the country."""
    from kefu.org.models import Membership, Role

    both = make_actor("lead_js_hotline", "desk_js", Role.SUPERVISOR)
    Membership.objects.create(user=both.user, team=Team.objects.get(code="hotline"), role=Role.AGENT)
    login_client(client, both)
    html = client.get("/reports/monthly/" + Q).content.decode()
    assert re.findall(r'data-col="([a-z]+)"', html) == ["js"]
    missing = client.get("/reports/monthly/xx/" + Q)
    denied = client.get("/reports/monthly/bj/" + Q)
    assert denied.status_code == missing.status_code == 404
    assert client.get("/reports/monthly/export.csv" + Q).content.decode().count("北京") == 0
    assert [c["key"] for c in client.get("/api/reports/monthly" + Q).json()["columns"]] == ["js"]
    assert client.get("/api/reports/monthly/bj" + Q).status_code == 404
    assert client.get("/api/reports/dashboard?province=bj").status_code == 404
    ranking = client.get("/api/reports/dashboard?month_from=2026-09&month_to=2026-10").json()[
        "province_ranking"
    ]
    assert [r["label"] for r in ranking] == ["江苏"]
    assert client.get("/reports/charts/ranking.svg?province=bj").status_code == 404
    panel = (
        client.get("/")
        .content.decode()
        .split('data-panel="reports-last-month"', 1)[1]
        .split("</section>", 1)[0]
    )
    assert "江苏" in panel and "全国" not in panel


def test_service_level_page_shows_pending_clocks_without_a_rate(client, lead_js, db):
    """Early in a month every clock may still be running: the row says so instead of printing "None%"."""
    js_desk = Team.objects.get(code="desk_js")
    start = timezone.now() - timedelta(hours=1)
    sla.clock_start(
        owner_type="test.order",
        owner_id=1,
        kind="resolve",
        ticket_kind="complaint",
        team=js_desk,
        province=js_desk.province,
        now=start,
    )
    month = timezone.localtime(start).strftime("%Y-%m")
    html = login_client(client, lead_js).get(f"/reports/service-level/?month={month}").content.decode()
    assert "None" not in html
    row = html.split("<h2>按承办团队</h2>", 1)[1].split("</section>", 1)[0]
    assert re.search(
        r"<td class=\"num\">0</td><td class=\"num\">0</td><td class=\"num\">1</td><td class=\"num \">—</td>",
        row,
    )
