"""Browser: a Beijing desk agent records a complaint from the caller's number, dispatches it to the hotline,
the hotline accepts and returns its result, and the desk replies to the customer, resolves and archives it."""

from __future__ import annotations

import os
import re

import pytest

from conftest import make_user
from kefu.customers.tests.factories import ContactFactory, CustomerFactory
from kefu.org.models import Province, Role

# Playwright's sync API runs an event loop in this thread; the ORM calls here are ordinary test setup.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct-horse-42"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=ARGS)
        yield b
        b.close()


def sign_in(browser, base: str, username: str):
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
    return page


def status(page) -> str:
    return page.locator("#ticket-status").inner_text()


def test_province_desk_complaint_via_hotline_to_reply(live_server, browser):
    make_user("agent_bj", "desk_bj", Role.AGENT)
    make_user("hotline_agent", "hotline", Role.AGENT)
    customer = CustomerFactory(province=Province.objects.get(slug="bj"), name="北京市某委办局")
    ContactFactory(customer=customer, name="王主任", is_primary=True, phones=["13800138000"])
    base = live_server.url

    # The desk takes the call: the number, written as the caller says it, finds the customer.
    desk = sign_in(browser, base, "agent_bj")
    desk.goto(f"{base}/tickets/new/")
    desk.fill("#caller-phone", "+86 138-0013-8000")
    desk.wait_for_selector("#lookup >> text=北京市某委办局")
    desk.check("input[name=customer]")
    desk.check("input[name=kind][value=complaint]")
    desk.select_option("select[name=cf_category]", "cf_usage_login")
    desk.fill("input[name=subject]", "会议终端无法登录，投诉处理慢")
    desk.fill("textarea[name=description]", "客户称连续两天无法登录云视频会议。")
    desk.click("form.ticket-create button[type=submit]")
    desk.wait_for_url(re.compile(r".*/tickets/BJ\d{13}/$"))
    number = desk.url.rstrip("/").rsplit("/", 1)[-1]
    assert status(desk) == "首问处理中"
    assert "北京10000+9政企专席" in desk.locator("#first-contact").inner_text()

    # It needs the hotline's help: dispatched with a reason (folded under 其他操作: resolving comes first).
    desk.click("#actions details.more-actions > summary")
    form = desk.locator("form[data-action=dispatch]")
    form.locator("select[name=to_team]").select_option("hotline")
    form.locator("select[name=reason_code]").select_option("complaint_assist")
    form.locator("textarea[name=note]").fill("需平台侧核查登录日志")
    form.locator("button").click()
    desk.wait_for_load_state()
    assert status(desk) == "待接单"
    assert desk.locator("form.action").count() == 0  # the desk no longer holds it

    # The hotline finds it in "awaiting my acceptance", accepts, and returns its result.
    hot = sign_in(browser, base, "hotline_agent")
    hot.goto(f"{base}/tickets/?queue=awaiting")
    hot.click(f"text={number}")
    hot.locator("form[data-action=accept] button").click()
    hot.wait_for_load_state()
    assert status(hot) == "承办中"
    form = hot.locator("form[data-action=return_result]")
    form.locator("textarea[name=result]").fill("平台认证节点异常已修复，客户可正常登录。")
    form.locator("button").click()
    hot.wait_for_load_state()
    assert status(hot) == "结果已返回待答复"

    # The desk replies to the customer (who, when, how), resolves and archives.
    desk.goto(f"{base}/tickets/{number}/")
    assert "平台认证节点异常已修复" in desk.locator("#hops").inner_text()
    desk.click("#actions details.more-actions > summary")
    form = desk.locator("form[data-action=reply]")
    form.locator("select[name=method]").select_option("call_back")
    form.locator("textarea[name=content]").fill("已电话告知王主任：平台已修复，可正常登录。")
    form.locator("button").click()
    desk.wait_for_load_state()
    assert "电话回访" in desk.locator("#replies").inner_text()
    form = desk.locator("form[data-action=resolve]")
    form.locator("textarea[name=resolution]").fill("热线协助修复认证节点，已答复客户。")
    form.locator("button").click()
    desk.wait_for_load_state()
    assert status(desk) == "已办结"
    desk.locator("form[data-action=close] button").click()
    desk.wait_for_load_state()
    assert status(desk) == "已归档"
    timeline = desk.locator("#timeline").inner_text()
    for label in ("登记工单", "派单", "接单", "返回处理结果", "答复客户", "办结", "归档"):
        assert label in timeline
    desk.screenshot(path=os.environ.get("KEFU_SCREENSHOT", "/tmp/tickets_detail.png"), full_page=True)
