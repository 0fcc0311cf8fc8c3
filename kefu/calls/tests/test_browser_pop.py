"""Browser: a signed newCall webhook pops the named agent's open page within 2 s; one click makes the linked order."""

from __future__ import annotations

import json
import os
import time
import urllib.request

import pytest

from conftest import make_user
from kefu.org.models import Province, Role

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
PASSWORD = "correct-horse-42"

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def pop_data(live_server):
    from kefu.calls.models import AgentMapping, CallSource
    from kefu.customers.tests.factories import ContactFactory, CustomerFactory

    agent = make_user("pop_agent", "hotline", Role.AGENT)
    AgentMapping.objects.create(ref="8101", user=agent)
    CallSource.objects.create(code="pbx-b", name="PBX", auth="hmac", secret="browser-secret")
    customer = CustomerFactory(name="江苏弹屏测试客户", province=Province.objects.get(slug="js"))
    ContactFactory(customer=customer, name="赵主任", phones=["13812345678"])
    return customer


def _post_signed(base: str, body: dict) -> int:
    from kefu.calls.services import sign

    raw = json.dumps(body).encode()
    stamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - the test server
        f"{base}/calls/cti/pbx-b/",
        data=raw,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Kefu-Timestamp": stamp,
            "X-Kefu-Signature": "sha256=" + sign("browser-secret", stamp, raw),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return int(response.status)


@pytest.mark.browser
def test_new_call_pops_the_agent_screen_and_one_click_makes_the_order(live_server, chromium_path, pop_data):
    from playwright.sync_api import expect, sync_playwright

    from kefu.calls.models import CallTicket
    from kefu.tickets.models import Ticket

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    base = live_server.url
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=ARGS)
        page = browser.new_context(locale="zh-CN").new_page()
        page.goto(base + "/accounts/login/")
        page.fill("input[name=username]", "pop_agent")
        page.fill("input[name=password]", PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        page.goto(base + "/calls/desk/")
        assert (
            _post_signed(
                base,
                {
                    "event": "newCall",
                    "callId": "b-1",
                    "from": "13812345678",
                    "to": "4009208566",
                    "direction": "in",
                    "queue": "hotline",
                    "user": ["8101"],
                },
            )
            == 200
        )
        expect(page.get_by_text("江苏弹屏测试客户")).to_be_visible(timeout=2000)
        expect(page.get_by_text("赵主任").first).to_be_visible()
        page.click("[data-testid=pop-create-order]")
        page.wait_for_url(lambda url: "/tickets/" in url)
        browser.close()
    ticket = Ticket.objects.unscoped("test").get()
    assert ticket.customer_id == pop_data.pk and ticket.caller_phone == "13812345678"
    assert CallTicket.objects.unscoped("test").get().ticket_id == ticket.pk
