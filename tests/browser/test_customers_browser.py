"""Browser: a Beijing desk supervisor searches customers as she types (htmx under the CSP), opens one,
adds a contact with a number written the international way, and finds the customer again by that number
typed in full-width digits; a Shanghai customer never shows. Chromium through Playwright."""

from __future__ import annotations

import os

import pytest

from conftest import make_user
from kefu.org.models import Role

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct-horse-42"

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def customers_data(live_server):
    from kefu.customers.tests.factories import ContactFactory, CustomerFactory, province

    ContactFactory(
        customer=CustomerFactory(name="北京市应急管理局", account_number="XST1100001"),
        name="张伟",
        is_primary=True,
        phones=["010-65528899"],
    )
    CustomerFactory(name="北京市第一人民医院", account_number="XST1100002")
    CustomerFactory(name="上海市应急管理局", account_number="XST3100001", province=province("sh"))
    make_user("lead_bj_b", "desk_bj", Role.SUPERVISOR)


def _login(page, base: str, username: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.mark.browser
def test_search_open_add_contact_and_find_by_number(live_server, chromium_path, customers_data, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread
    csp_errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=ARGS)
        page = browser.new_context(locale="zh-CN").new_page()
        page.on(
            "console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None
        )
        _login(page, live_server.url, "lead_bj_b")
        page.click("nav.mainnav >> text=客户")
        results = page.locator("#customer-results")
        expect(results).to_contain_text("北京市第一人民医院")
        expect(results).not_to_contain_text("上海市应急管理局")

        page.fill("input[name=q]", "应急")  # htmx swaps the results as she types; no submit
        expect(results).not_to_contain_text("北京市第一人民医院")
        expect(results).to_contain_text("北京市应急管理局")
        expect(results).not_to_contain_text("上海市应急管理局")
        page.screenshot(path=str(tmp_path / "list.png"), full_page=True)

        page.click("#customer-results >> text=北京市应急管理局")
        expect(page.locator("h1")).to_contain_text("北京市应急管理局")
        form = page.locator("form[action$='/contacts/']")
        form.locator("input[name=name]").fill("李娜")
        form.locator("input[name=phones]").fill("+86 139-1234-5678")
        form.locator("button").click()
        expect(page.locator("body")).to_contain_text("联系人已添加")
        expect(page.locator("body")).to_contain_text("139 1234 5678")
        expect(page.locator("body")).to_contain_text("新增联系人")  # the change history
        page.screenshot(path=str(tmp_path / "detail.png"), full_page=True)

        page.goto(live_server.url + "/customers/")
        page.fill("input[name=q]", "１３９１２３４５６７８")
        expect(results).to_contain_text("北京市应急管理局")
        expect(results).not_to_contain_text("北京市第一人民医院")
        browser.close()
    assert not csp_errors, csp_errors
