"""Browser: embed.js on a page of another origin. Not listed in 允许嵌入的站点: the browser refuses the
frame (frame-ancestors). Listed: the visitor window opens in the frame."""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kefu.realtime.models import AllowedOrigin

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture
def operator_site(live_server):
    """The operator's own site: another origin (127.0.0.1 and its own port) whose page loads embed.js."""
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>运营商门户</title></head><body>"
        f"<h1>门户</h1><script src='{live_server.url}/chat/embed.js' async></script></body></html>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=ARGS)
        yield b
        b.close()


def open_widget(browser, url):
    page = browser.new_page()
    page.goto(url)
    page.get_by_role("button", name="在线客服").click()
    page.wait_for_selector("iframe")
    frame = page.frames[1]
    frame.wait_for_load_state("load")
    return page, frame


def test_a_site_not_allowed_gets_a_refused_frame_and_an_allowed_one_the_chat(
    browser, operator_site, live_server
):
    page, frame = open_widget(browser, operator_site)
    # Chromium replaces a frame refused by frame-ancestors with its error page.
    frame.wait_for_url(lambda url: not url.startswith("about:"))
    assert frame.url.startswith("chrome-error://"), frame.url
    assert frame.locator("#start-form").count() == 0
    page.close()

    AllowedOrigin.objects.create(origin=operator_site)
    page, frame = open_widget(browser, operator_site)
    frame.wait_for_selector("#start-form")
    assert frame.url.startswith(f"{live_server.url}/chat/visit/")
    page.close()
