"""Browser: declare → HQ alert → bulletin relayed → a desk acknowledges → a new order is suggested and linked →
resolution → the bulk reply reaches every linked order → review report."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import make_user
from kefu.incidents.models import Incident, Link, Receipt
from kefu.org.access import actor_for
from kefu.org.models import Role, User
from kefu.tickets.models import CustomerReply, Ticket
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


def sign_in(browser, base: str, username: str):
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
    return page


def local(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def test_incident_from_declaration_to_review(live_server, browser):
    make_user("hotline_lead", "hotline", Role.SUPERVISOR)
    make_user("hq_reviewer", "hq_service", Role.KB_PUBLISHER)
    make_user("agent_js", "desk_js", Role.AGENT)
    base = live_server.url
    now = timezone.now()

    # The hotline lead declares; a start in the future is refused first, nothing is written.
    lead = sign_in(browser, base, "hotline_lead")
    lead.goto(f"{base}/incidents/new/")
    lead.fill("input[name=title]", "云平台会议入会失败")
    lead.fill("input[name=services]", "云会议入会")
    lead.check("input[name=provinces][value=js]")
    lead.fill("input[name=started_at]", local(now + timedelta(hours=1)))
    lead.fill("input[name=detected_at]", local(now - timedelta(minutes=5)))
    lead.select_option("select[name=impact]", "P1")
    lead.fill("textarea[name=symptoms]", "终端提示网络错误，无法入会")
    lead.click("[data-testid=declare-submit]")
    assert "不能晚于当前时间" in lead.locator("[data-testid=form-error]").inner_text()
    assert Incident.objects.count() == 0
    lead.fill("input[name=started_at]", local(now - timedelta(minutes=20)))
    lead.check("input[name=provinces][value=js]")
    lead.click("[data-testid=declare-submit]")
    lead.wait_for_url(re.compile(r".*/incidents/INC\d{8}-\d{2}/$"))
    number = lead.url.rstrip("/").rsplit("/", 1)[-1]
    assert lead.locator("[data-testid=incident-status]").inner_text() == "调查中"

    # HQ service has the alert on its home page, acknowledges it and relays a bulletin.
    hq = sign_in(browser, base, "hq_reviewer")
    assert number in hq.locator("[data-testid=incident-panel]").inner_text()
    assert hq.locator("[data-testid=hq-alert]").count() == 1
    hq.goto(f"{base}/incidents/{number}/")
    hq.click("[data-testid=hq-ack]")
    hq.fill(
        "[data-testid=bulletin-form] textarea[name=customer_script]", "平台故障抢修中，可先以电话方式入会。"
    )
    hq.fill("[data-testid=bulletin-form] textarea[name=agent_guidance]", "登记为突发事件并关联本事件。")
    hq.click("[data-testid=bulletin-submit]")
    hq.wait_for_selector("[data-testid=bulletin]")
    assert Incident.objects.get().hq_seen_at is not None

    # The Jiangsu desk sees the banner on its workbench and acknowledges it.
    desk = sign_in(browser, base, "agent_js")
    desk.goto(f"{base}/tickets/")
    banner = desk.locator("[data-testid=incident-banner]")
    assert "平台故障抢修中" in banner.inner_text()
    desk.click("[data-testid=banner-ack]")
    desk.wait_for_selector("[data-testid=incident-banner] >> text=本团队已确认")
    assert Receipt.objects.unscoped("test").get(team__code="desk_js").acknowledged_at is not None

    # A new order arrives; its page suggests the incident and links it with one click.
    ticket = make_ticket(actor_for(User.objects.get(username="agent_js")), subject="会议无法入会")
    desk.goto(f"{base}/tickets/{ticket.number}/")
    desk.click("[data-testid=link-incident]")
    desk.wait_for_selector("[data-testid=incident-linked]")
    assert Link.objects.unscoped("test").filter(ticket_id=ticket.pk).exists()

    # The lead resolves the incident and sends the bulk reply and resolution.
    lead.goto(f"{base}/incidents/{number}/")
    lead.select_option("[data-testid=status-select]", "resolved")
    lead.fill("[data-testid=resolution-text]", "平台已恢复，请重新入会。")
    lead.click("[data-testid=status-submit]")
    lead.wait_for_selector("[data-testid=incident-status] >> text=已恢复")
    lead.click("[data-testid=bulk-submit]")
    lead.wait_for_selector("text=成功 1 张")
    t = Ticket.objects.unscoped("test").get(pk=ticket.pk)
    assert t.status == "resolved"
    assert CustomerReply.objects.unscoped("test").get(ticket=t).content == "平台已恢复，请重新入会。"
    desk.goto(f"{base}/tickets/{ticket.number}/")
    assert desk.locator("#ticket-status").inner_text() == "已办结"

    # The review report: figures, Excel, printable.
    lead.click("[data-testid=review-link]")
    assert lead.locator("[data-testid=review-total]").inner_text() == "1"
    assert "江苏" in lead.locator("[data-testid=per-hour]").inner_text()
    with lead.expect_download() as dl:
        lead.click("[data-testid=review-xlsx]")
    assert dl.value.suggested_filename == f"incident-review-{number}.xlsx"
