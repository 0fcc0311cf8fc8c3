"""Browser: an agent's reply with a banned phrase is refused with the suggestion and the text kept; the
corrected reply goes through; a supervisor inspects the contact, the agent appeals, the supervisor decides."""

from __future__ import annotations

import os
import re

import pytest

from conftest import make_user
from kefu.org.access import actor_for
from kefu.org.models import Role
from kefu.quality.models import Inspection
from kefu.tickets.tests.factories import make_ticket

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
BAD = "你自己不会看说明书吗？别 再 来 问 了！"
GOOD = "您好，说明书第三章有入会步骤，我已短信发送给您，如还有问题欢迎随时联系我们。"


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


def reply_form(page):
    form = page.locator("form[data-action=reply]")
    if not form.is_visible():
        page.click("#actions details.more-actions > summary")
    return form


def test_banned_reply_refused_then_corrected_then_inspected_appealed_decided(live_server, browser):
    agent_user = make_user("agent_bj", "desk_bj", Role.AGENT)
    make_user("lead_bj", "desk_bj", Role.SUPERVISOR)
    ticket = make_ticket(actor_for(agent_user), subject="会议终端无法入会")
    base = live_server.url

    agent = sign_in(browser, base, "agent_bj")
    agent.goto(f"{base}/tickets/{ticket.number}/")
    form = reply_form(agent)
    form.locator("textarea[name=content]").fill(BAD)
    form.locator("button").click()
    agent.wait_for_load_state()
    error = agent.locator("#action-error").inner_text()
    assert "别 再 来 问 了" in error and "欢迎随时联系我们" in error  # the phrase and the suggested wording
    form = agent.locator("form[data-action=reply]")
    assert form.locator("textarea[name=content]").input_value() == BAD  # the typed text stays
    form.locator("textarea[name=content]").fill(GOOD)
    form.locator("button").click()
    agent.wait_for_load_state()
    assert GOOD in agent.locator("#replies").inner_text()

    lead = sign_in(browser, base, "lead_bj")
    lead.goto(f"{base}/quality/")
    lead.click("[data-testid=quality-sample]")
    lead.wait_for_load_state()
    lead.click(f"text={ticket.number}")
    lead.wait_for_load_state()
    assert "忌语拦截" in lead.content()  # sampled because a banned phrase was blocked
    card = lead.locator("[data-testid=quality-scorecard]")
    card.locator("input[name='item_5.1']").fill("10")
    card.locator("textarea[name=comment]").fill("首次答复使用服务忌语")
    card.locator("button").click()
    lead.wait_for_load_state()
    assert lead.locator("[data-testid=quality-score]").inner_text() == "90.0"
    pk = Inspection.objects.unscoped("test").get().pk

    agent.goto(f"{base}/quality/{pk}/")
    appeal = agent.locator("[data-testid=quality-appeal]")
    appeal.locator("textarea[name=reason]").fill("忌语已被系统拦截，未发送给客户")
    appeal.locator("button").click()
    agent.wait_for_load_state()
    assert agent.locator("[data-testid=quality-status]").inner_text() == "申诉中"

    lead.goto(f"{base}/quality/{pk}/")
    decide = lead.locator("[data-testid=quality-decide]")
    decide.locator("input[name=final_score]").fill("95")
    decide.locator("textarea[name=comment]").fill("拦截的忌语未到达客户，酌情改为 95 分")
    decide.locator("button").click()
    lead.wait_for_load_state()
    assert lead.locator("[data-testid=quality-status]").inner_text() == "已定分"
    assert lead.locator("[data-testid=quality-final]").inner_text() == "95.0"
