"""Browser, two contexts (visitor and online_agent): the whole conversation of issue #9.

Django's live server speaks HTTP only, so both pages find the socket refused and
fall back to the long-poll path of kefu.realtime (the WebSocket path itself is
covered by the protocol tests and the restart script): this also proves the
fallback carries a whole conversation.
"""

from __future__ import annotations

import os
import re

import pytest

from conftest import make_user
from kefu.chat.models import Conversation, Presence
from kefu.customers.tests.factories import ContactFactory, CustomerFactory
from kefu.knowledge import services as kb
from kefu.knowledge.tests.conftest import content
from kefu.org.access import actor_for
from kefu.org.models import Province, Role

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


def published_article():
    author = actor_for(make_user("kb_author", "knowledge", Role.KB_AUTHOR))
    checker = actor_for(make_user("kb_checker", "knowledge", Role.KB_AUTHOR))
    confirmer = actor_for(make_user("hq_confirmer", "hq_business", Role.KB_CONFIRMER))
    reviewer = actor_for(make_user("hq_reviewer", "hq_service", Role.KB_PUBLISHER))
    rev = kb.article_create(
        actor=author,
        content=content(
            title="会议录制文件保存多久",
            question="客户询问云端会议录制文件的保存期限。",
            answer_agent="云端录制默认保存30天。",
            answer_customer="云端录制文件默认保存 30 天，到期前请下载到本地。",
            category_code="cf_usage_login",
            keywords="录制 保存 会议录制",
        ),
    )
    for actor, action in (
        (author, "submit"),
        (checker, "check"),
        (confirmer, "confirm"),
        (reviewer, "publish"),
    ):
        rev = kb.revision_transition(actor=actor, revision=rev, action=action)
    return rev


def test_visitor_and_online_agent_whole_conversation(live_server, browser, always_open):
    agent_user = make_user("online_agent", "online", Role.AGENT)
    Presence.objects.create(user=agent_user, status=Presence.Status.ONLINE)
    customer = CustomerFactory(province=Province.objects.get(slug="sh"), name="上海市某委办局")
    ContactFactory(customer=customer, name="王主任", is_primary=True, phones=["13800138000"])
    published_article()
    base = live_server.url

    visitor = browser.new_context(locale="zh-CN").new_page()
    errors: list[str] = []
    visitor.on("pageerror", lambda e: errors.append(str(e)))
    visitor.goto(f"{base}/kb/faq/")
    href = visitor.get_attribute("a.faq-chat", "href")  # the chat entry on every FAQ page
    assert href == "/chat/visit/"
    visitor.goto(f"{base}{href}")
    visitor.fill("input[name=name]", "王主任")
    visitor.fill("input[name=unit]", "上海市某委办局")
    visitor.fill("input[name=phone]", "+86 138-0013-8000")
    visitor.fill("textarea[name=text]", "请问会议录制文件保存多久？")
    visitor.click("#start-form button")
    visitor.wait_for_selector("#v-log >> text=请问会议录制文件保存多久？", timeout=30000)

    agent = browser.new_context(locale="zh-CN").new_page()
    agent.goto(f"{base}/accounts/login/")
    agent.fill("input[name=username]", "online_agent")
    agent.fill("input[name=password]", PASSWORD)
    agent.click("button[type=submit]")
    agent.wait_for_url(re.compile(r".*/$"))
    agent.goto(f"{base}/chat/console/")
    agent.click("#q-waiting a:has-text('王主任')")
    agent.wait_for_selector("#c-log >> text=请问会议录制文件保存多久？")
    assert "上海市某委办局" in agent.locator("#c-match").inner_text()  # a possible match, shown as such
    agent.click("#btn-accept")

    # the greeting of the norms reaches the visitor
    visitor.wait_for_selector("#v-log >> text=欢迎使用新视通(4G版)在线客服", timeout=30000)

    # a banned phrase is refused with the reason; the typed text stays
    agent.fill("#c-text", "你烦不烦")
    agent.click("#btn-send")
    agent.wait_for_selector("#c-error >> text=烦不烦", timeout=30000)
    assert agent.locator("#c-text").input_value() == "你烦不烦"
    assert "别着急" in agent.locator("#c-error").inner_text()  # the suggested wording

    # a knowledge suggestion is inserted and sent with its citation
    agent.click("#btn-suggest")
    agent.click("#c-suggest button:has-text('会议录制文件保存多久')", timeout=30000)
    assert "30 天" in agent.locator("#c-text").input_value()
    agent.click("#btn-send")
    visitor.wait_for_selector("#v-log >> text=云端录制文件默认保存 30 天", timeout=30000)

    visitor.fill("#v-text", "好的，谢谢")
    visitor.click("#v-composer button:has-text('发送')")
    agent.wait_for_selector("#c-log >> text=好的，谢谢", timeout=30000)

    # an order from the transcript
    agent.click("summary:has-text('生成工单')")
    agent.select_option("#k-kind", "consultation")
    agent.fill("#k-subject", "咨询会议录制保存期限")
    agent.click("#ticket-form button")
    agent.wait_for_selector("#k-result a", timeout=30000)

    # the agent closes; the visitor rates
    agent.click("#btn-close")
    visitor.wait_for_selector("#rate-form:visible", timeout=30000)
    visitor.check("input[value=satisfied]")
    visitor.fill("textarea[name=comment]", "回答很清楚")
    visitor.click("#rate-form button")
    visitor.wait_for_selector("#rated:visible", timeout=30000)

    assert errors == []
    c = Conversation.objects.get()
    assert c.status == "closed" and c.rating == "satisfied" and c.rating_comment == "回答很清楚"
    assert c.kb_answered and c.ticket is not None and c.ticket.customer == customer
    assert "请问会议录制文件保存多久" in c.ticket.description
