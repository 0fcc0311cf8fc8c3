"""axe-core (WCAG 2.1 A/AA) on the pages people use (issue #17.6): the main page of each role, the
order pages, the report, the public FAQ in Chinese and in English. Zero serious or critical
violations; the workbench stays usable at a phone's width (375 px)."""

from __future__ import annotations

import os

import pytest

from conftest import make_user
from kefu.knowledge.tests.conftest import hq_confirmer, kb_author, kb_checker, make_published  # noqa: F401
from kefu.org.models import Role

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct-horse-42"
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def data(live_server, make_published):  # noqa: F811
    from kefu.org.access import actor_for
    from kefu.tickets.tests.factories import make_ticket

    agent = make_user("a11y_agent", "desk_bj", Role.AGENT)
    make_user("a11y_lead", "desk_bj", Role.SUPERVISOR)
    make_user("a11y_analyst", "hq_service", Role.ANALYST)
    make_user("a11y_author", "knowledge", Role.KB_AUTHOR)
    ticket = make_ticket(actor_for(agent))
    revision = make_published()
    return {"ticket": ticket.number, "article": revision.article_id}


def serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in ("serious", "critical"):
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]][:3]
            found.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return found


def sign_in(context, base: str, username: str):
    page = context.new_page()
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


PAGES = {
    "a11y_agent": ["/", "/tickets/", "/tickets/new/", "/tickets/{ticket}/", "/kb/"],
    "a11y_lead": ["/", "/tickets/?queue=off_rule"],
    "a11y_analyst": ["/", "/reports/", "/reports/monthly/"],
    "a11y_author": ["/", "/kb/", "/kb/articles/{article}/"],
}


def test_signed_in_pages_have_no_serious_violations(live_server, chromium_path, data):
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread
    problems: dict[str, list[str]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=ARGS)
        for username, paths in PAGES.items():
            context = browser.new_context()
            page = sign_in(context, live_server.url, username)
            for path in paths:
                url = live_server.url + path.format(**data)
                page.goto(url)
                assert page.locator("main#main").count() == 1, url
                found = serious(page)
                if found:
                    problems[f"{username} {path}"] = found
            context.close()
        browser.close()
    assert problems == {}


def test_public_faq_in_chinese_and_english(live_server, chromium_path, data):
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    problems: dict[str, list[str]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=ARGS)
        for language, html_lang in (("zh-hans", "zh-Hans"), ("en", "en")):
            context = browser.new_context()
            context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
            page = context.new_page()
            for path in ("/kb/faq/", f"/kb/faq/{data['article']}/", "/kb/faq/?q=登录", "/accounts/login/"):
                page.goto(live_server.url + path)
                assert page.locator("html").get_attribute("lang") == html_lang, path
                assert page.locator("h1").count() >= 1 or path == "/accounts/login/", path
                found = serious(page)
                if found:
                    problems[f"{language} {path}"] = found
            if language == "en":
                page.goto(f"{live_server.url}/kb/faq/{data['article']}/")
                assert page.locator("[data-testid=faq-answer]").get_attribute("lang") == "zh-Hans"
            context.close()
        browser.close()
    assert problems == {}


def test_skip_link_moves_focus_to_the_main_content(live_server, chromium_path, data):
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=ARGS)
        page = sign_in(browser.new_context(), live_server.url, "a11y_agent")
        page.goto(live_server.url + "/tickets/")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        page.keyboard.press("Enter")
        assert page.evaluate("location.hash") == "#main"
        browser.close()


def test_the_workbench_is_usable_at_375_px(live_server, chromium_path, data):
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=ARGS)
        context = browser.new_context(viewport={"width": 375, "height": 740})
        page = sign_in(context, live_server.url, "a11y_agent")
        for path in ("/tickets/", f"/tickets/{data['ticket']}/", "/tickets/new/"):
            page.goto(live_server.url + path)
            # Nothing makes the page itself scroll sideways (wide tables scroll inside their panel).
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, (path, width)
            assert serious(page) == [], path
        page.goto(live_server.url + f"/tickets/{data['ticket']}/")
        assert page.get_by_text(data["ticket"]).first.is_visible()
        browser.close()
