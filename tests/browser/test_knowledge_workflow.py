"""Browser: an article goes draft → check → confirm → publish through the web UI, the public FAQ shows
its customer answer, and the province matrix shows Guangdong's receipt after agent_gd loads it."""

from __future__ import annotations

import os
import re

import pytest

from conftest import make_user
from kefu.org.models import Role

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
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/accounts/login/" not in page.url, f"{username} could not sign in"
    return page


def act(browser, base: str, username: str, revision_url: str, action: str, expected_status: str) -> None:
    page = sign_in(browser, base, username)
    page.goto(revision_url)
    page.click(f"button[data-action={action}]")
    assert page.locator("[data-testid=status]").inner_text() == expected_status
    page.context.close()


def test_article_from_draft_to_faq_and_gd_receipt(live_server, browser, settings):
    settings.KEFU_LOGIN_MAX_FAILURES = 100  # six people sign in from one address within minutes
    make_user("kb_author", "knowledge", Role.KB_AUTHOR)
    make_user("kb_checker", "knowledge", Role.KB_AUTHOR)
    make_user("hq_confirmer", "hq_business", Role.KB_CONFIRMER)
    make_user("hq_reviewer", "hq_service", Role.KB_PUBLISHER)
    make_user("agent_gd", "desk_gd", Role.AGENT)
    base = live_server.url

    # The operating unit writes a draft and submits it.
    page = sign_in(browser, base, "kb_author")
    page.goto(f"{base}/kb/articles/new/")
    page.fill("input[name=title]", "会议中如何举手发言")
    page.fill("textarea[name=question]", "参会人想发言，但被主持人静音了。")
    page.fill("textarea[name=answer_agent]", "引导客户点击工具栏“举手”，主持人在参会人列表中允许其发言。")
    page.fill("textarea[name=answer_customer]", "请点击会议工具栏中的“举手”按钮，主持人同意后即可发言。")
    page.select_option("select[name=category_code]", "cf_usage_function")
    page.fill("input[name=keywords]", "举手 发言 静音")
    page.click("form.kb-form button.primary")
    page.wait_for_url(re.compile(r".*/kb/revisions/\d+/$"))
    revision_url = page.url
    assert page.locator("[data-testid=status]").inner_text() == "草稿"
    page.click("button[data-action=submit]")
    assert page.locator("[data-testid=status]").inner_text() == "待运营单位审核"
    page.context.close()

    # Three approvals, each by its own role.
    act(browser, base, "kb_checker", revision_url, "check", "待政企事业部确认")
    act(browser, base, "hq_confirmer", revision_url, "confirm", "待集团客服部审核发布")
    act(browser, base, "hq_reviewer", revision_url, "publish", "已发布")

    # A customer, not signed in, finds the customer answer on the public FAQ (on a phone-sized screen).
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    faq = phone.new_page()
    faq.goto(f"{base}/kb/faq/")
    faq.fill("input[name=q]", "举手")
    faq.click("form.faq-search button")
    faq.click("ol.faq-list a")
    assert (
        faq.locator("[data-testid=faq-answer]").inner_text()
        == "请点击会议工具栏中的“举手”按钮，主持人同意后即可发言。"
    )
    assert "主持人在参会人列表中允许其发言" not in faq.content()  # the agents' answer stays internal
    phone.close()

    # Guangdong's desk loads it; HQ's matrix shows the receipt in the Guangdong column.
    page = sign_in(browser, base, "agent_gd")
    page.goto(f"{base}/kb/?q=举手")
    page.click("ol.kb-hits a.kb-hit-title")
    page.click("[data-testid=load]")
    assert "agent_gd" in page.locator("[data-testid=my-receipt]").inner_text()
    page.context.close()

    page = sign_in(browser, base, "hq_reviewer")
    page.goto(f"{base}/kb/receipts/")
    headers = page.locator("[data-testid=matrix] thead th").all_inner_texts()
    gd_col = headers.index("广东")
    row = page.locator("[data-testid=matrix] tbody tr").first
    assert "会议中如何举手发言" in row.inner_text()
    assert row.locator("td").nth(gd_col).inner_text().startswith("✓")
    assert row.locator("td").nth(headers.index("北京")).inner_text() == ""
    assert row.locator("td").nth(1).inner_text() == "1/31"
    page.context.close()
