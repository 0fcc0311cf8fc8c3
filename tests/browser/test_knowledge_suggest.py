"""Browser: knowledge where agents type (issue #13.1). On a consultation's page the resolve form suggests
articles as the agent types (debounced htmx), 引用 puts the visible number into the citation field,
粘贴答案 appends the customer answer to the reply without losing what was typed, and the resolved order
counts as answered from the knowledge base; its subject waits for the author as a similar question."""

from __future__ import annotations

import os

import pytest

from conftest import make_user
from kefu.knowledge import services as kb
from kefu.knowledge.models import SimilarQuestion
from kefu.knowledge.tests.conftest import content
from kefu.org.access import actor_for
from kefu.org.models import Role
from kefu.tickets.models import Ticket
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


@pytest.fixture
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=ARGS)
        yield b
        b.close()


def _published():
    people = [
        actor_for(make_user(u, team, role))
        for u, team, role in (
            ("kb_author", "knowledge", Role.KB_AUTHOR),
            ("kb_checker", "knowledge", Role.KB_AUTHOR),
            ("hq_confirmer", "hq_business", Role.KB_CONFIRMER),
            ("hq_reviewer", "hq_service", Role.KB_PUBLISHER),
        )
    ]
    rev = kb.article_create(actor=people[0], content=content())
    for actor, action in zip(people, ("submit", "check", "confirm", "publish"), strict=True):
        rev = kb.revision_transition(actor=actor, revision=rev, action=action)
    return rev


def test_resolve_form_suggests_cites_and_pastes(live_server, browser, settings):
    settings.KEFU_LOGIN_MAX_FAILURES = 100
    rev = _published()
    agent = actor_for(make_user("agent_bj", "desk_bj", Role.AGENT))
    t = make_ticket(agent, kind="consultation", topic="usage", subject="电脑端老是登不上去")
    base = live_server.url
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "agent_bj")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto(f"{base}/tickets/{t.number}/")
    form = page.locator("form[data-action=resolve]")
    if not form.is_visible():  # folded with the other actions
        form.locator("xpath=ancestor::details[1]/summary").click()
    form.locator("[name=reply_content]").fill("您好，")
    form.locator("[name=resolution]").fill("按知识库答复客户")
    form.locator("[data-testid=kb-search]").fill("登录 密码")
    cite = form.locator(f"[data-kb-cite=KB{rev.article_id:06d}]")
    cite.wait_for(timeout=10_000)  # the debounced suggestion arrived
    cite.click()
    assert form.locator("[data-testid=kb-cite-field]").input_value() == f"KB{rev.article_id:06d}"
    form.locator(f"[data-kb-paste][data-kb-article='{rev.article_id}']").click()
    reply = form.locator("[name=reply_content]").input_value()
    assert reply.startswith("您好，") and rev.answer_customer in reply  # appended, nothing typed was lost
    with page.expect_navigation():
        form.locator("button.primary").last.click()
    t = Ticket.objects.unscoped("test").get(pk=t.pk)
    assert (t.status, t.resolved_from_kb, t.kb_article_id) == ("resolved", True, rev.article_id)
    assert SimilarQuestion.objects.filter(
        article_id=rev.article_id, text="电脑端老是登不上去", state="proposed"
    ).exists()
