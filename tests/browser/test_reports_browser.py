"""Browser: an HQ analyst opens the monthly report and the dashboard, downloads the Excel; a province
supervisor sees only its own column. Chromium through Playwright against the live server."""

from __future__ import annotations

import io
import os
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.utils import timezone

from conftest import make_user
from kefu.org.models import Role

SH = ZoneInfo("Asia/Shanghai")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct-horse-42"


# The organisation comes from a data migration: keep it across the flushes of transactional tests.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def report_data(live_server):
    from kefu.reports import rollup
    from kefu.reports.tests.factories import ticket

    ticket(slug="js", at=datetime(2026, 10, 3, tzinfo=SH), cat="cf_usage_login")
    ticket(slug="js", at=datetime(2026, 10, 4, tzinfo=SH), cat="cf_incident", kind="fault")
    ticket(slug="bj", at=datetime(2026, 10, 5, tzinfo=SH), cat="cf_usage_bill")
    ticket(slug="bj", at=datetime(2026, 9, 5, tzinfo=SH), cat="cf_usage_bill")
    # answered from the knowledge base: the 咨询 row, not 合计
    ticket(slug="js", at=datetime(2026, 10, 6, tzinfo=SH), kind="consultation", cat=None, kb=True)
    rollup.run(now=timezone.now())
    make_user("hq_analyst_b", "hq_service", Role.ANALYST)
    make_user("lead_js_b", "desk_js", Role.SUPERVISOR)


def _login(page, base: str, username: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click(".login-card button[type=submit], form button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.mark.browser
def test_hq_report_dashboard_and_excel(live_server, chromium_path, report_data, tmp_path):
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread
    csp_errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=ARGS)
        page = browser.new_page(accept_downloads=True)
        page.on(
            "console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None
        )
        _login(page, live_server.url, "hq_analyst_b")

        page.goto(live_server.url + "/reports/monthly/?month=2026-10")
        headers = page.locator("#monthly-report thead th[data-col]").all_inner_texts()
        assert headers[:3] == ["全国", "北京", "天津"] and len(headers) == 32
        total = page.locator("#monthly-report tr.total td.num").all_inner_texts()
        assert total[:2] == ["3", "1"]
        # The 咨询 row (第八条): its label merged over 分类1-3, then the knowledge-base count per column.
        kb_label = page.locator("#monthly-report tr.kb th")
        assert kb_label.all_inner_texts() == ["咨询(可根据知识库解决的咨询、投诉数量)"]
        assert kb_label.get_attribute("colspan") == "3"
        kb = page.locator("#monthly-report tr.kb td.num").all_inner_texts()
        js = headers.index("江苏")
        assert (kb[0], kb[1], kb[js]) == ("1", "0", "1")

        with page.expect_download() as info:
            page.click("[data-testid=xlsx]")
        path = tmp_path / "report.xlsx"
        info.value.save_as(path)
        ws = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))["月报表"]
        assert ws.cell(3, 4).value == "全国"

        page.goto(live_server.url + "/reports/?month_from=2026-09&month_to=2026-10")
        assert (
            page.locator("[data-testid=trend-total]").inner_text() == "5"
        )  # every kind, the consultation too
        img = page.locator("[data-testid=chart-trend]")
        img.wait_for()
        page.wait_for_function("document.querySelector('[data-testid=chart-trend]').complete")
        assert page.evaluate("document.querySelector('[data-testid=chart-trend]').naturalWidth") > 0
        page.select_option("select[name=province]", "js")
        page.click("form.filters button")
        page.wait_for_url(lambda url: "province=js" in url)
        assert page.locator("[data-testid=trend-total]").inner_text() == "3"
        browser.close()
    assert csp_errors == []


@pytest.mark.browser
def test_province_supervisor_sees_only_jiangsu(live_server, chromium_path, report_data):
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=ARGS)
        page = browser.new_page()
        _login(page, live_server.url, "lead_js_b")
        page.goto(live_server.url + "/reports/monthly/?month=2026-10")
        assert page.locator("#monthly-report thead th[data-col]").all_inner_texts() == ["江苏"]
        assert page.locator("#monthly-report tr.total td.num").all_inner_texts() == ["2"]
        assert page.locator("#monthly-report tr.kb td.num").all_inner_texts() == ["1"]
        response = page.goto(live_server.url + "/reports/monthly/bj/?month=2026-10")
        assert response is not None and response.status == 404
        browser.close()
