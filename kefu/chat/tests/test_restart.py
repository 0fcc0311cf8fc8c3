"""Restart: the socket server (daphne, the production ASGI server) is killed mid-conversation and started
again; the visitor's and the agent's pages reconnect, resume from their last sequence number, and end with
every message once, in order.

Runs against a file SQLite database of its own (migrated here) because the server is a separate process.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scripts import testdb

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "correct-horse-42"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]

pytestmark = [pytest.mark.browser]

SETUP = """
from datetime import time as t
from kefu.org.models import Membership, Team, User
from kefu.chat.models import ChatSettings, Presence
from kefu.sla.models import ServiceCalendar, ServiceHours
u = User.objects.create_user(username="online_agent", password="PASSWORD_HERE", display_name="online_agent")
Membership.objects.create(user=u, team=Team.objects.get(code="online"), role="agent")
Presence.objects.create(user=u, status="online")
cal = ServiceCalendar.objects.create(code="always", name="always")
for w in range(7):
    ServiceHours.objects.create(calendar=cal, weekday=w, opens=t(0, 0), closes=t(0, 0))
ChatSettings.objects.update(calendar=cal)
""".replace("PASSWORD_HERE", PASSWORD)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server_env(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'restart.sqlite3'}",
        "KEFU_TESTING": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "KEFU_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "KEFU_STATIC_ROOT": str(tmp_path / "static"),  # its own: parallel tests collect at once
    }
    env.pop("KEFU_WS_PORT", None)
    env.pop("KEFU_WS_URL", None)
    # Pages need the hashed static files (manifest storage outside tests); a fresh clone has none.
    # collectstatic runs beside the database set-up: a copy of the migrated template
    # (scripts/testdb.py), on which migrate finds nothing to do.
    static = subprocess.Popen(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env
    )
    testdb.sqlite_copy(tmp_path / "restart.sqlite3", env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    assert static.wait() == 0, "collectstatic failed"
    subprocess.run([sys.executable, "manage.py", "shell", "-c", SETUP], cwd=ROOT, env=env, check=True)
    return env


def start_daphne(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):  # until it accepts connections (start-up, not a timing assertion)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("daphne did not start")


def texts(page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(f"{selector} .text").all_inner_texts()]


def test_server_killed_mid_conversation_both_sides_resume_nothing_lost_or_doubled(server_env, chromium_path):
    from playwright.sync_api import sync_playwright

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_daphne(server_env, port)
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=chromium_path, args=ARGS)
            visitor = b.new_context(locale="zh-CN").new_page()
            errors: list[str] = []
            visitor.on("pageerror", lambda e: errors.append(str(e)))
            visitor.goto(f"{base}/chat/visit/")
            visitor.fill("input[name=name]", "王主任")
            visitor.fill("textarea[name=text]", "第一问")
            visitor.click("#start-form button")
            visitor.wait_for_selector("#v-log >> text=第一问", timeout=60000)

            agent = b.new_context(locale="zh-CN").new_page()
            agent.on("pageerror", lambda e: errors.append(str(e)))
            agent.goto(f"{base}/accounts/login/")
            agent.fill("input[name=username]", "online_agent")
            agent.fill("input[name=password]", PASSWORD)
            agent.click("button[type=submit]")
            agent.wait_for_url(re.compile(r".*/$"))
            agent.goto(f"{base}/chat/console/")
            agent.wait_for_selector("#rt-status.rt-open", timeout=60000)  # on the socket, not polling
            agent.click("#q-waiting a:has-text('王主任')")
            agent.click("#btn-accept")
            visitor.wait_for_selector("#v-log >> text=欢迎使用", timeout=60000)
            agent.fill("#c-text", "答复一")
            agent.click("#btn-send")
            visitor.wait_for_selector("#v-log >> text=答复一", timeout=60000)

            # kill the server mid-conversation; the visitor types while it is down
            server.send_signal(signal.SIGKILL)
            server.wait()
            visitor.wait_for_selector("#rt-status:not(.rt-open)", timeout=60000)
            visitor.fill("#v-text", "第二问")
            visitor.click("#v-composer button:has-text('发送')")
            server = start_daphne(server_env, port)

            # reconnecting backs off up to 30 s (with jitter): wait longer than that
            agent.wait_for_selector("#c-log >> text=第二问", timeout=90000)
            agent.fill("#c-text", "答复二")
            agent.click("#btn-send")
            visitor.wait_for_selector("#v-log >> text=答复二", timeout=90000)

            expected = [
                "第一问",
                "您好，欢迎使用新视通(4G版)在线客服，请问有什么可以帮您？",
                "答复一",
                "第二问",
                "答复二",
            ]
            assert texts(visitor, "#v-log") == expected
            assert texts(agent, "#c-log") == expected
            # a reload resumes from the stored conversation without doubling anything
            visitor.reload()
            visitor.wait_for_selector("#v-log >> text=答复二", timeout=60000)
            assert texts(visitor, "#v-log") == expected
            assert errors == []
            b.close()
    finally:
        server.kill()
        server.wait()
