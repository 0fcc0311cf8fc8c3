#!/usr/bin/env python3
"""Cluster test: two app servers, two workers, one scheduler, a proxy, one PostgreSQL and one Redis, with faults.

    ./kefu.sh cluster-test [--seconds 180] [--rate 6]

Everything runs on loopback and is the test's own: a redis-server on a free port
(append-only file, so a restart keeps the queue), a fresh PostgreSQL database
``kefu_cluster_<pid>`` on the server of ``KEFU_TEST_PG_URL`` (dropped at the end),
two gunicorn app servers behind nginx, two ``kefu_worker`` processes and one
``kefu_worker --scheduler``, and an SMTP sink in this process. The deadlines are
shortened in that database (1 natural minute for accept and resolve alike)
so that SLA outcomes fall due during the run.

A mixed load runs at a fixed rate: desk agents create orders (each with an
Idempotency-Key; a failed request is retried with the same key), dispatch some
to the hotline, the hotline accepts some and leaves the rest to the 2-hour
(here: 1-minute) auto-accept, orders are replied to and resolved, reports are
read, and the month's statistics mail is queued once. Meanwhile one app server
and one worker are killed with SIGKILL and restarted, and Redis is restarted.

At the end it prints a table and exits 1 on any loss: orders acknowledged to a
client = orders stored (no duplicate); every SLA clock that fell due has its
outcome written exactly once; every mail reached the SMTP sink exactly once;
no 5xx answer except while a server was down.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from scripts import testdb  # noqa: E402 - needs ROOT on the path

PY = sys.executable
MANAGE = str(ROOT / "manage.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


# -- processes ----------------------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    down: list[tuple[float, float]] = field(default_factory=list)

    def start(self) -> None:
        fh = self.log.open("ab")
        self.proc = subprocess.Popen(
            self.args, env=self.env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_http(url: str, seconds: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def nginx_conf(tmp: Path, port: int, upstreams: list[int], ws_upstreams: list[int]) -> Path:
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in upstreams)
    ws_servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in ws_upstreams)
    conf = tmp / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/nginx-body;
  proxy_temp_path {tmp}/nginx-proxy;
  fastcgi_temp_path {tmp}/nginx-fastcgi;
  uwsgi_temp_path {tmp}/nginx-uwsgi;
  scgi_temp_path {tmp}/nginx-scgi;
  upstream kefu {{
{servers}
    keepalive 16;
  }}
  upstream kefu_ws {{
{ws_servers}
  }}
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  server {{
    listen 127.0.0.1:{port};
    # Sockets go to the daphne processes (as in deploy/nginx/kefu.conf); a socket whose server dies
    # is closed, and the client reconnects here, to whichever daphne is up.
    location /ws/ {{
      proxy_pass http://kefu_ws;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_next_upstream error timeout http_502;
      proxy_connect_timeout 2s;
      proxy_read_timeout 300s;
    }}
    location / {{
      proxy_pass http://kefu;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      # GETs go to the other server when one is down; writes are never replayed by the proxy
      # (non_idempotent is not listed): the client retries them with its Idempotency-Key.
      proxy_next_upstream error timeout http_502;
      proxy_connect_timeout 2s;
      proxy_read_timeout 30s;
    }}
  }}
}}
""")
    return conf


# -- the seed (runs in a child with DATABASE_URL set) ------------------------------------------------


def seed() -> None:
    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.utils import timezone

    from kefu.customers.models import Customer
    from kefu.org.access import actor_for
    from kefu.org.models import Membership, Province, Role, Team, User
    from kefu.org.services import token_issue
    from kefu.reports import months
    from kefu.reports import services as reports
    from kefu.sla.models import Policy

    # Deadlines that fall due within the run: natural minutes instead of service hours.
    for policy in Policy.objects.filter(is_active=True):
        policy.counting = Policy.Counting.NATURAL
        policy.duration_minutes = 1
        policy.save()
    bj = Province.objects.get(slug="bj")
    Customer.objects.bulk_create(
        [Customer(name=f"集群测试客户{i}", account_number=f"CL-{i:05d}", province=bj) for i in range(60)]
    )
    customers = list(
        Customer.objects.unscoped("cluster seed").filter(province=bj).values_list("pk", flat=True)
    )
    tokens = {}
    for username, team_code in (("cl_desk_bj", "desk_bj"), ("cl_hotline", "hotline")):
        user = User.objects.create_user(username=username, password=uuid.uuid4().hex, display_name=username)
        team = Team.objects.get(code=team_code)
        Membership.objects.create(user=user, team=team, role=Role.AGENT)
        tokens[team_code] = token_issue(actor=actor_for(user), team=team, name="cluster")[1]
    # Online service open around the clock, two online agents who sign in like browsers.
    from datetime import time as clock_time

    from kefu.chat.models import ChatSettings, Presence
    from kefu.sla.models import ServiceCalendar, ServiceHours

    calendar = ServiceCalendar.objects.create(code="cluster_always", name="cluster: always open")
    ServiceHours.objects.bulk_create(
        [
            ServiceHours(calendar=calendar, weekday=w, opens=clock_time(0, 0), closes=clock_time(0, 0))
            for w in range(7)
        ]
    )
    online = Team.objects.get(code="online")
    ChatSettings.objects.update_or_create(
        team=online,
        defaults={"calendar": calendar, "routing": ChatSettings.Routing.MANUAL, "max_concurrent": 5},
    )
    chat_password = uuid.uuid4().hex
    chat_agents = []
    for i in (1, 2):
        user = User.objects.create_user(
            username=f"cl_online{i}", password=chat_password, display_name=f"cl_online{i}"
        )
        Membership.objects.create(user=user, team=online, role=Role.AGENT)
        Presence.objects.create(user=user, status=Presence.Status.ONLINE)
        chat_agents.append(user.username)
    reports.recipients_seed(domain="cluster.example")
    queued = reports.mail_enqueue(actor=None, month=months.previous_month(timezone.now()), now=timezone.now())
    print(
        json.dumps(
            {
                "customers": customers,
                "tokens": tokens,
                "mails": queued,
                "chat_agents": chat_agents,
                "chat_password": chat_password,
            }
        )
    )


# -- the load ---------------------------------------------------------------------------------------


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0
    acknowledged: set[str] = field(default_factory=set)
    retries: int = 0
    server_errors: list[tuple[float, int, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    actions: collections.Counter[str] = field(default_factory=collections.Counter)
    dispatched: list[str] = field(default_factory=list)
    open_orders: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)


REASON = {"consultation": "needs_expert", "complaint": "complaint_assist"}


class Load:
    def __init__(self, base: str, seeded: dict[str, Any], tally: Tally, give_up_at: float) -> None:
        import httpx

        self.tally, self.seeded, self.give_up_at = tally, seeded, give_up_at
        self.desk = httpx.Client(
            base_url=base, timeout=15, headers={"Authorization": f"Bearer {seeded['tokens']['desk_bj']}"}
        )
        self.hotline = httpx.Client(
            base_url=base, timeout=15, headers={"Authorization": f"Bearer {seeded['tokens']['hotline']}"}
        )

    def _send(self, client: Any, method: str, path: str, *, ok: tuple[int, ...], **kw: Any) -> Any:
        """Send until an answer in ``ok`` (or 409 after a retry: the first try went through)."""
        tried = 0
        while time.monotonic() < self.give_up_at:
            tried += 1
            try:
                r = client.request(method, path, **kw)
            except Exception as exc:  # connection refused / reset while a server restarts
                with self.tally.lock:
                    self.tally.retries += 1
                last = repr(exc)
                time.sleep(0.5)
                continue
            if r.status_code >= 500:
                with self.tally.lock:
                    self.tally.server_errors.append((time.monotonic(), r.status_code, path))
                    self.tally.retries += 1
                last = f"{r.status_code}"
                time.sleep(0.5)
                continue
            if r.status_code in ok or (tried > 1 and r.status_code == 409):
                return r
            with self.tally.lock:
                self.tally.failures.append(f"{method} {path}: {r.status_code} {r.text[:200]}")
            return None
        with self.tally.lock:
            self.tally.failures.append(f"{method} {path}: gave up ({last})")
        return None

    def create(self) -> None:
        body = {
            "kind": random.choice(["complaint", "consultation"]),
            "customer_id": random.choice(self.seeded["customers"]),
            "subject": "会议终端无法登录",
            "description": "集群测试",
            "category": None,
        }
        if body["kind"] == "complaint":
            body["category"] = "cf_usage_login"
        else:
            body.pop("category")
        key = uuid.uuid4().hex
        with self.tally.lock:
            self.tally.sent += 1
        r = self._send(
            self.desk, "POST", "/api/tickets", ok=(200, 201), json=body, headers={"Idempotency-Key": key}
        )
        if r is not None and r.status_code in (200, 201):
            number = r.json()["number"]
            with self.tally.lock:
                self.tally.acknowledged.add(number)
                self.tally.open_orders.append(number)
                self.tally.kinds[number] = body["kind"]

    def _pick(self, pool: list[str]) -> str | None:
        with self.tally.lock:
            return pool.pop(random.randrange(len(pool))) if pool else None

    def dispatch(self) -> None:
        number = self._pick(self.tally.open_orders)
        if number is None:
            return
        detail = self._send(self.desk, "GET", f"/api/tickets/{number}", ok=(200,))
        if detail is None:
            return
        r = self._send(
            self.desk,
            "POST",
            f"/api/tickets/{number}/dispatch",
            ok=(200,),
            json={
                "version": detail.json()["version"],
                "to_team": "hotline",
                "reason_code": REASON[self.tally.kinds[number]],
                "note": "集群测试派单",
            },
        )
        if r is not None:
            with self.tally.lock:
                self.tally.dispatched.append(number)
                self.tally.actions["dispatch"] += 1

    def accept(self) -> None:
        number = self._pick(self.tally.dispatched)
        if number is None:
            return
        detail = self._send(self.hotline, "GET", f"/api/tickets/{number}", ok=(200,))
        if detail is None:
            return
        if (
            self._send(
                self.hotline,
                "POST",
                f"/api/tickets/{number}/accept",
                ok=(200,),
                json={"version": detail.json()["version"]},
            )
            is not None
        ):
            with self.tally.lock:
                self.tally.actions["accept"] += 1

    def reply(self) -> None:
        with self.tally.lock:
            number = random.choice(self.tally.open_orders) if self.tally.open_orders else None
        if number is None:
            return
        detail = self._send(self.desk, "GET", f"/api/tickets/{number}", ok=(200,))
        if detail is None:
            return
        if (
            self._send(
                self.desk,
                "POST",
                f"/api/tickets/{number}/reply",
                ok=(200,),
                json={
                    "version": detail.json()["version"],
                    "method": "call_back",
                    "content": "您好，您反映的问题我们已记录，正在处理，感谢您的耐心等待。",
                },
            )
            is not None
        ):
            with self.tally.lock:
                self.tally.actions["reply"] += 1

    def read_report(self) -> None:
        if self._send(self.desk, "GET", "/api/tickets?limit=20", ok=(200,)) is not None:
            with self.tally.lock:
                self.tally.actions["queue read"] += 1

    def step(self) -> None:
        roll = random.random()
        if roll < 0.5:
            self.create()
        elif roll < 0.65:
            self.dispatch()
        elif roll < 0.75:
            self.accept()
        elif roll < 0.85:
            self.reply()
        else:
            self.read_report()


# -- chat: a minimal WebSocket client and the chat load ------------------------------------------------


class WSClosed(Exception):
    """The socket is gone (closed by the server, reset, or the server died)."""


class WS:
    """RFC 6455 client, text frames only: enough to speak the public ``/ws/rt/`` protocol."""

    def __init__(self, port: int, path: str, cookie: str = "") -> None:
        import base64

        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        head = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        )
        if cookie:
            head += f"Cookie: {cookie}\r\n"
        self.sock.sendall((head + "\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise WSClosed("closed during the handshake")
            self.buf += chunk
        status, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if b" 101 " not in status.split(b"\r\n", 1)[0]:
            self.sock.close()
            raise WSClosed(status.split(b"\r\n", 1)[0].decode(errors="replace"))

    def send(self, obj: dict[str, Any]) -> None:
        self._frame(0x1, json.dumps(obj, ensure_ascii=False).encode())

    def _frame(self, opcode: int, data: bytes) -> None:
        mask = os.urandom(4)
        n = len(data)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
        else:
            head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        try:
            self.sock.sendall(head + mask + body)
        except OSError as exc:
            raise WSClosed(repr(exc)) from exc

    def _parse(self) -> tuple[int, bytes] | None:
        b = self.buf
        if len(b) < 2:
            return None
        n, at = b[1] & 0x7F, 2
        if n == 126:
            if len(b) < 4:
                return None
            n, at = int.from_bytes(b[2:4], "big"), 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, at = int.from_bytes(b[2:10], "big"), 10
        if len(b) < at + n:
            return None
        self.buf = b[at + n :]
        return b[0] & 0x0F, b[at : at + n]

    def recv(self, timeout: float) -> dict[str, Any] | None:
        """The next JSON frame, or None when nothing came within ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            got = self._parse()
            if got is not None:
                opcode, data = got
                if opcode == 0x1:
                    return dict(json.loads(data))
                if opcode == 0x8:
                    raise WSClosed(
                        f"closed by the server ({int.from_bytes(data[:2], 'big') if data else ''})"
                    )
                if opcode == 0x9:
                    self._frame(0xA, data)
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return None
            except OSError as exc:
                raise WSClosed(repr(exc)) from exc
            if not chunk:
                raise WSClosed("connection closed")
            self.buf += chunk

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._frame(0x8, (1000).to_bytes(2, "big"))
        with contextlib.suppress(Exception):
            self.sock.close()


def login_cookie(base: str, username: str, password: str) -> str:
    """Sign in through the proxy like a browser; returns the Cookie header for the socket."""
    import re

    import httpx

    with httpx.Client(base_url=base, timeout=15) as client:
        page = client.get("/accounts/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        r = client.post(
            "/accounts/login/",
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": csrf.group(1) if csrf else "",
            },
        )
        if "sessionid" not in client.cookies:
            raise SystemExit(f"chat agent {username} could not sign in: {r.status_code}")
        return f"sessionid={client.cookies['sessionid']}"


@dataclass
class ChatTally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0
    resent: int = 0
    reconnects: int = 0
    drops: list[float] = field(default_factory=list)  # monotonic times a live socket was lost
    acknowledged: dict[str, int] = field(default_factory=dict)  # client_id -> seq
    failures: list[str] = field(default_factory=list)


class ChatParty:
    """One side of one conversation on its own socket: sends at a fixed interval, receives everything.

    Behaves like ``rt.js``: on a lost socket it reconnects through the proxy (to whichever socket
    server is up), resubscribes with ``since`` = the last seq it saw, and resends every message not
    yet acknowledged with the same client id. Everything the server delivers is recorded, so a
    duplicate, a gap or a reordering shows up in the table.
    """

    def __init__(
        self, port: int, conv: int, role: str, tally: ChatTally, *, token: str = "", cookie: str = ""
    ) -> None:
        self.port, self.conv, self.role, self.tally = port, conv, role, tally
        self.group = f"chat.{conv}"
        self.token, self.cookie = token, cookie
        self.cursor = 0
        self.received: list[tuple[int, str]] = []  # (seq, client_id) in arrival order
        self.anomalies: list[str] = []
        self.pending: dict[str, str] = {}  # client_id -> text, sent and not yet acknowledged
        self.refs: dict[str, str] = {}  # ref -> client_id
        self.retry: list[tuple[float, str]] = []  # (when, client_id): refused as too fast, sent again
        self.n = 0

    def _handle(self, f: dict[str, Any]) -> None:
        kind = f.get("type")
        if kind == "event" and f.get("group") == self.group and f.get("event") == "chat.message":
            seq = f["seq"]
            self.received.append((seq, f["payload"].get("client_id", "")))
            if seq <= self.cursor:
                self.anomalies.append(f"seq {seq} again after {self.cursor}")
            elif seq != self.cursor + 1:
                self.anomalies.append(f"seq {seq} after {self.cursor} (gap)")
            self.cursor = max(self.cursor, seq)
        elif kind == "subscribed" and f.get("reset"):
            self.anomalies.append("subscription reset (events pruned)")
        elif kind == "reply" and f.get("ref") in self.refs:
            cid = self.refs.pop(f["ref"])
            if cid in self.pending:
                del self.pending[cid]
                with self.tally.lock:
                    self.tally.acknowledged[cid] = f["data"]["seq"]
        elif kind == "error" and f.get("ref") in self.refs:
            cid = self.refs.pop(f["ref"])
            if f.get("code") == "rate_limited":  # too fast: the same message again a little later
                self.retry.append((time.monotonic() + 2.0, cid))
            else:
                self.pending.pop(cid, None)
                with self.tally.lock:
                    self.tally.failures.append(
                        f"{self.role} {self.group}: {f.get('code')} {f.get('message_en')}"
                    )

    def _send(self, ws: WS, cid: str) -> None:
        ref = uuid.uuid4().hex[:12]
        self.refs[ref] = cid
        ws.send(
            {
                "type": "chat.send",
                "ref": ref,
                "conversation": self.conv,
                "client_id": cid,
                "text": self.pending[cid],
            }
        )

    def _connect(self) -> WS:
        ws = WS(self.port, "/ws/rt/", self.cookie)
        try:
            self._wait(ws, "hello")
            if self.token:
                ws.send({"type": "auth", "token": self.token})
                self._wait(ws, "hello")
            ws.send({"type": "subscribe", "group": self.group, "since": self.cursor})
            self._wait(ws, "subscribed")
            self.refs.clear()
            self.retry.clear()
            for cid in list(self.pending):  # not acknowledged: the server drops a duplicate by client id
                with self.tally.lock:
                    self.tally.resent += 1
                self._send(ws, cid)
        except BaseException:
            ws.close()
            raise
        return ws

    def _wait(self, ws: WS, kind: str) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            f = ws.recv(deadline - time.monotonic())
            if f is None:
                break
            if f.get("type") == "error" and f.get("ref") is None:
                raise WSClosed(f"refused: {f.get('code')}")
            self._handle(f)
            if f.get("type") == kind:
                return
        raise WSClosed(f"no {kind} frame")

    def run(self, started: float, interval: float, stop_at: float, finish: threading.Event) -> None:
        next_send = started + interval * random.random()
        ws: WS | None = None
        while not finish.is_set():
            try:
                if ws is None:
                    ws = self._connect()
                now = time.monotonic()
                if now >= next_send and now < stop_at:
                    self.n += 1
                    cid = f"cl-{self.role}-{self.conv}-{self.n}"
                    self.pending[cid] = (
                        f"{'访客' if self.role == 'visitor' else '坐席'}消息 {self.n}：您好，谢谢。"
                    )
                    with self.tally.lock:
                        self.tally.sent += 1
                    self._send(ws, cid)
                    next_send += interval
                for due in [r for r in self.retry if r[0] <= now]:
                    self.retry.remove(due)
                    if due[1] in self.pending:
                        self._send(ws, due[1])
                f = ws.recv(max(0.05, min(next_send - time.monotonic(), 0.5)))
                if f is not None:
                    self._handle(f)
            except (WSClosed, OSError):
                if ws is not None:
                    with self.tally.lock:
                        self.tally.drops.append(time.monotonic())
                    ws.close()
                ws = None
                with self.tally.lock:
                    self.tally.reconnects += 1
                time.sleep(0.5 + random.random())  # reconnect with jitter, as rt.js does
        if ws is not None:
            ws.close()


def chat_setup(base: str, port: int, seeded: dict[str, Any], count: int, tally: ChatTally) -> list[ChatParty]:
    """Visitors start ``count`` conversations over the socket; the online agents accept them."""
    agents = [login_cookie(base, name, seeded["chat_password"]) for name in seeded["chat_agents"]]
    parties: list[ChatParty] = []
    for i in range(count):
        ws = WS(port, "/ws/rt/")
        ws.recv(10)  # hello
        ws.send(
            {
                "type": "chat.start",
                "ref": "s",
                "name": f"访客{i + 1}",
                "unit": "集群测试单位",
                "text": "你好，会议终端无法登录。",
            }
        )
        reply = ws.recv(10)
        ws.close()
        if not reply or reply.get("type") != "reply":
            raise SystemExit(f"chat.start refused: {reply}")
        conv, token = reply["data"]["conversation"], reply["data"]["token"]
        cookie = agents[i % len(agents)]
        ws = WS(port, "/ws/rt/", cookie)
        ws.recv(10)
        ws.send({"type": "chat.accept", "ref": "a", "conversation": conv})
        reply = ws.recv(10)
        ws.close()
        if not reply or reply.get("type") != "reply":
            raise SystemExit(f"chat.accept refused: {reply}")
        parties.append(ChatParty(port, conv, "visitor", tally, token=token))
        parties.append(ChatParty(port, conv, "agent", tally, cookie=cookie))
    return parties


def chat_settled(parties: list[ChatParty], tally: ChatTally) -> bool:
    """Every message acknowledged, and every socket has seen the last acknowledged seq of its conversation."""
    with tally.lock:
        acked = list(tally.acknowledged.items())
    last: dict[int, int] = collections.defaultdict(int)
    for cid, seq in acked:
        conv = int(cid.split("-")[2])
        last[conv] = max(last[conv], seq)
    return all(not p.pending and p.cursor >= last[p.conv] for p in parties)


def chat_verify(db_url: str, parties: list[ChatParty], tally: ChatTally) -> list[tuple[str, Any, Any, bool]]:
    import psycopg

    convs = sorted({p.conv for p in parties})
    with psycopg.connect(db_url) as conn:
        stored_rows = conn.execute(
            "SELECT conversation_id, seq, client_id FROM chat_message WHERE conversation_id = ANY(%s)",
            (convs,),
        ).fetchall()
    by_conv: dict[int, dict[int, str]] = collections.defaultdict(dict)
    for conv, seq, cid in stored_rows:
        by_conv[conv][seq] = cid
    stored = collections.Counter(cid for _c, _s, cid in stored_rows if cid.startswith("cl-"))
    acked = tally.acknowledged
    lost = [c for c in acked if stored[c] == 0]
    twice = [c for c, n in stored.items() if n > 1]
    unacked = [c for c in stored if c not in acked]
    wrong_seq = [c for c, s in acked.items() if by_conv[int(c.split("-")[2])].get(s) != c]
    misdelivered = 0
    for p in parties:
        want = [(s, by_conv[p.conv][s]) for s in sorted(by_conv[p.conv])]
        if p.received != want or p.anomalies:
            misdelivered += 1
    rows: list[tuple[str, Any, Any, bool]] = [
        (
            "chat messages acknowledged = stored",
            len(acked),
            sum(stored.values()),
            not lost and not twice and not unacked,
        ),
        ("  lost (acknowledged, not stored)", 0, len(lost), not lost),
        ("  sent and never acknowledged", 0, tally.sent - len(acked), tally.sent == len(acked)),
        ("  stored twice / stored unacknowledged", 0, len(twice) + len(unacked), not twice and not unacked),
        ("  acknowledged seq not the stored one", 0, len(wrong_seq), not wrong_seq),
        (
            f"chat sockets given every message once, in order ({len(parties)})",
            len(parties),
            len(parties) - misdelivered,
            misdelivered == 0,
        ),
    ]
    return rows


# -- verification -----------------------------------------------------------------------------------


def verify(
    db_url: str, tally: Tally, mails_received: collections.Counter[str], run_end_utc: float
) -> list[tuple[str, Any, Any, bool]]:
    import psycopg

    rows: list[tuple[str, Any, Any, bool]] = []
    with psycopg.connect(db_url) as conn:
        stored = {r[0] for r in conn.execute("SELECT number FROM tickets_ticket")}
        lost = tally.acknowledged - stored
        extra = stored - tally.acknowledged
        rows.append(
            ("orders acknowledged = stored", len(tally.acknowledged), len(stored), not lost and not extra)
        )
        rows.append(("  lost (acknowledged, not stored)", 0, len(lost), not lost))
        rows.append(("  duplicates / unacknowledged stored", 0, len(extra), not extra))
        due = conn.execute(
            "SELECT id FROM sla_clock WHERE due_at <= to_timestamp(%s)",
            (run_end_utc,),
        ).fetchall()
        due_ids = {str(r[0]) for r in due}
        undecided = conn.execute(
            "SELECT count(*) FROM sla_clock WHERE status = 'running' AND breached_at IS NULL "
            "AND due_at <= to_timestamp(%s)",
            (run_end_utc,),
        ).fetchone()[0]
        events = collections.Counter(
            r[0]
            for r in conn.execute(
                "SELECT target_id FROM core_auditevent WHERE verb IN ('sla.clock.expired', 'sla.clock.breached') "
                "AND target_type = 'sla.clock'"
            )
        )
        twice = [cid for cid, n in events.items() if n > 1]
        rows.append(("SLA clocks due during the run", "-", len(due_ids), True))
        rows.append(("  due and still undecided", 0, undecided, undecided == 0))
        rows.append(("  outcomes written more than once", 0, len(twice), not twice))
        outbox = collections.Counter(r[0] for r in conn.execute("SELECT email FROM reports_outboundmail"))
        unsent = conn.execute("SELECT count(*) FROM reports_outboundmail WHERE status <> 'sent'").fetchone()[
            0
        ]
        rows.append(
            (
                "mails queued = received",
                sum(outbox.values()),
                sum(mails_received.values()),
                outbox == mails_received,
            )
        )
        rows.append(("  mails not marked sent", 0, unsent, unsent == 0))
        dup = sum(n - 1 for n in mails_received.values() if n > 1)
        rows.append(("  mails received twice", 0, dup, dup == 0))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=180, help="length of the load (default 180)")
    ap.add_argument("--rate", type=float, default=6.0, help="operations per second (default 6)")
    ap.add_argument(
        "--chats", type=int, default=3, help="conversations, visitor and agent each on a socket (default 3)"
    )
    ap.add_argument(
        "--chat-interval",
        type=float,
        default=3.0,
        help="seconds between two messages of one side (default 3)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the database and the temp folder")
    ap.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    opts = ap.parse_args()
    if opts.seed:
        seed()
        return 0
    if not shutil.which("nginx") or not shutil.which("redis-server"):
        print(
            "cluster test needs nginx and redis-server (Debian packages nginx, redis-server)", file=sys.stderr
        )
        return 2

    import psycopg
    from aiosmtpd.controller import Controller

    pg = os.environ.get("KEFU_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/kefu").rsplit("/", 1)[0]
    db_name = f"kefu_cluster_{os.getpid()}"
    db_url = f"{pg}/{db_name}"
    tmp = Path(tempfile.mkdtemp(prefix="kefu-cluster-"))
    procs: list[Proc] = []
    received: collections.Counter[str] = collections.Counter()

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
            for rcpt in envelope.rcpt_tos:
                received[rcpt] += 1
            return "250 OK"

    smtp_port = free_port()
    smtp = Controller(Sink(), hostname="127.0.0.1", port=smtp_port)
    # SIGTERM (./kefu.sh test stopped) ends like Ctrl-C: the finally below stops every process.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        redis_port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_TEST")}
        env.pop("KEFU_TESTING", None)
        (tmp / "var").mkdir()
        (tmp / "prom").mkdir()
        env.update(
            {
                "DATABASE_URL": db_url,
                "HUEY_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                "CHANNELS_REDIS_URL": f"redis://127.0.0.1:{redis_port}/1",
                # The rate limits counted in one place by all app servers, and failing open while
                # Redis restarts (the chat rows below would show a refused or lost message).
                "KEFU_CACHE_URL": f"redis://127.0.0.1:{redis_port}/2",
                "KEFU_VAR_DIR": str(tmp / "var"),
                "KEFU_STATIC_ROOT": str(tmp / "static"),
                "KEFU_SECRET_KEY": uuid.uuid4().hex * 2,
                "KEFU_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prom"),
                "KEFU_LOG_LEVEL": "WARNING",
                "KEFU_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "KEFU_SMTP_HOST": "127.0.0.1",
                "KEFU_SMTP_PORT": str(smtp_port),
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        redis = Proc(
            "redis",
            [
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(tmp),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            env,
            tmp / "redis.log",
        )
        redis.start()
        procs.append(redis)
        # collectstatic runs while the database is made: a copy of the template migrated once
        # per migrations hash (scripts/testdb.py), then migrate on the copy, which finds nothing
        # to do unless the template lacks a migration (KEFU_TEST_TEMPLATE=0: migrate from scratch).
        static = subprocess.Popen([PY, MANAGE, "collectstatic", "--noinput", "-v0"], env=env, cwd=ROOT)
        t0 = time.monotonic()
        if testdb.enabled():
            testdb.pg_clone(pg, db_name, env)
            say(f"database {db_name}: cloned from the migrated template in {time.monotonic() - t0:.1f} s")
        else:
            with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{db_name}"')
            say(f"database {db_name}: migrating")
        subprocess.run([PY, MANAGE, "migrate", "-v0"], env=env, cwd=ROOT, check=True)
        if static.wait() != 0:
            raise SystemExit("collectstatic failed")
        seeded = json.loads(
            subprocess.run(
                [PY, __file__, "--seed"], env=env, cwd=ROOT, check=True, capture_output=True, text=True
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        smtp.start()
        app_ports = [free_port(), free_port()]
        apps = [
            Proc(
                f"app{i + 1}",
                [
                    PY,
                    "-m",
                    "gunicorn",
                    "config.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{p}",
                    "--workers",
                    "1",
                    "--worker-class",
                    "gthread",
                    "--threads",
                    "4",
                    "--log-level",
                    "warning",
                ],
                env,
                tmp / f"app{i + 1}.log",
            )
            for i, p in enumerate(app_ports)
        ]
        workers = [
            Proc(
                f"worker{i + 1}",
                [PY, MANAGE, "kefu_worker", "--workers", "2"],
                env,
                tmp / f"worker{i + 1}.log",
            )
            for i in range(2)
        ]
        scheduler = Proc(
            "scheduler",
            [PY, MANAGE, "kefu_worker", "--scheduler", "--workers", "1"],
            env,
            tmp / "scheduler.log",
        )
        ws_ports = [free_port(), free_port()]
        sockets = [
            Proc(
                f"daphne{i + 1}",
                [PY, "-m", "daphne", "-b", "127.0.0.1", "-p", str(p), "config.asgi:application"],
                env,
                tmp / f"daphne{i + 1}.log",
            )
            for i, p in enumerate(ws_ports)
        ]
        proxy_port = free_port()
        conf = nginx_conf(tmp, proxy_port, app_ports, ws_ports)
        proxy = Proc(
            "proxy",
            ["nginx", "-c", str(conf), "-p", str(tmp), "-g", "daemon off;"],
            env,
            tmp / "nginx.log",
        )
        for p in [*apps, *sockets, *workers, scheduler, proxy]:
            p.start()
            procs.append(p)
        for port in app_ports + ws_ports:
            wait_http(f"http://127.0.0.1:{port}/healthz")
        base = f"http://127.0.0.1:{proxy_port}"
        wait_http(f"{base}/healthz")
        say(
            f"cluster up: proxy :{proxy_port}, apps {app_ports}, sockets {ws_ports}, redis :{redis_port}, "
            f"smtp :{smtp_port}; load {opts.rate}/s and {opts.chats} chats for {opts.seconds} s"
        )
        chat_tally = ChatTally()
        parties = chat_setup(base, proxy_port, seeded, opts.chats, chat_tally) if opts.chats else []

        tally = Tally()
        started = time.monotonic()
        stop_at = started + opts.seconds
        load = Load(base, seeded, tally, give_up_at=stop_at + 60)
        faults: list[tuple[str, float, float]] = []

        def inject() -> None:
            plan = [
                (0.25, apps[0], 3.0),
                (0.35, sockets[0], 2.0),
                (0.45, workers[0], 2.0),
                (0.65, redis, 1.0),
            ]
            for share, proc, pause in plan:
                time.sleep(max(0.0, started + share * opts.seconds - time.monotonic()))
                t0 = time.monotonic()
                say(f"fault: SIGKILL {proc.name}" if proc is not redis else "fault: restarting redis")
                if proc is redis:
                    subprocess.run(
                        ["redis-cli", "-p", str(redis_port), "shutdown"], check=False, capture_output=True
                    )
                    if redis.proc is not None:
                        redis.proc.wait(timeout=15)
                else:
                    proc.kill()
                time.sleep(pause)
                proc.start()
                if proc in apps:
                    wait_http(f"http://127.0.0.1:{app_ports[apps.index(proc)]}/healthz")
                if proc in sockets:
                    wait_http(f"http://127.0.0.1:{ws_ports[sockets.index(proc)]}/healthz")
                faults.append((proc.name, t0 - started, time.monotonic() - started))

        injector = threading.Thread(target=inject, daemon=True)
        injector.start()
        finish = threading.Event()
        chatters = [
            threading.Thread(target=p.run, args=(started, opts.chat_interval, stop_at, finish), daemon=True)
            for p in parties
        ]
        for t in chatters:
            t.start()
        pool: list[threading.Thread] = []
        interval = 1.0 / opts.rate
        n = 0
        while time.monotonic() < stop_at:
            t = threading.Thread(target=load.step, daemon=True)
            t.start()
            pool.append(t)
            n += 1
            time.sleep(max(0.0, started + n * interval - time.monotonic()))
            pool = [t for t in pool if t.is_alive()]
        for t in pool:
            t.join(timeout=90)
        injector.join(timeout=60)
        # Every clock due up to 30 s after the load must be decided by the sweeps that follow.
        run_end = time.time() + 30
        say(f"load done: {n} operations; waiting for the sweep to decide every clock due by end + 30 s")
        give_up = time.time() + 240
        while time.time() < give_up:
            with psycopg.connect(db_url) as conn:
                left = conn.execute(
                    "SELECT count(*) FROM sla_clock WHERE status = 'running' AND breached_at IS NULL "
                    "AND due_at <= to_timestamp(%s)",
                    (run_end,),
                ).fetchone()[0]
                mails_left = conn.execute(
                    "SELECT count(*) FROM reports_outboundmail WHERE status <> 'sent'"
                ).fetchone()[0]
            if time.time() > run_end and left == 0 and mails_left == 0 and chat_settled(parties, chat_tally):
                break
            time.sleep(3)

        def redis_keys(db: int, pattern: str) -> list[str]:
            return subprocess.run(
                ["redis-cli", "-p", str(redis_port), "-n", str(db), "--scan", "--pattern", pattern],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.split()

        # The layer must be channels_redis on this test's Redis: its group keys are there (db 1).
        layer_keys = redis_keys(1, "asgi*")
        # The rate limits must be counted in the shared cache (db 2), not in each app server's memory.
        limit_keys = redis_keys(2, "kefu:*:rl:*")
        finish.set()
        for t in chatters:
            t.join(timeout=10)
        rows = verify(db_url, tally, received, run_end)
        if parties:
            rows += chat_verify(db_url, parties, chat_tally)
            rows.append(("Channels layer keys in the test's Redis", ">0", len(layer_keys), bool(layer_keys)))
            rows.append(("rate-limit counters in the shared cache", ">0", len(limit_keys), bool(limit_keys)))
        # 5xx only while a server was down (and 3 s after): the proxy answers 502 when both are unreachable.
        windows = [(a - 1, b + 3) for _name, a, b in faults]
        stray = [e for e in tally.server_errors if not any(a <= e[0] - started <= b for a, b in windows)]
        rows.append(("5xx outside the fault windows", 0, len(stray), not stray))
        rows.append(("requests that failed for good", 0, len(tally.failures), not tally.failures))
        rows.append(("chat sends refused for good", 0, len(chat_tally.failures), not chat_tally.failures))
        # A socket may only die with its daphne or with Redis (an idle socket that dies is a bug).
        stray_drops = [t for t in chat_tally.drops if not any(a <= t - started <= b for a, b in windows)]
        rows.append(("chat sockets lost outside the fault windows", 0, len(stray_drops), not stray_drops))
        print()
        print(f"{'check':45} {'expected':>10} {'found':>10}  result")
        for name, want, got, ok in rows:
            print(f"{name:45} {want!s:>10} {got!s:>10}  {'ok' if ok else 'FAIL'}")
        print(
            f"\noperations {n}, creates sent {tally.sent}, retries {tally.retries}, "
            f"5xx seen {len(tally.server_errors)}, actions {dict(tally.actions)}"
        )
        if parties:
            print(
                f"chat: {len(parties) // 2} conversations, messages sent {chat_tally.sent}, "
                f"acknowledged {len(chat_tally.acknowledged)}, resent {chat_tally.resent}, "
                f"sockets lost {len(chat_tally.drops)}, connection attempts failed "
                f"{chat_tally.reconnects - len(chat_tally.drops)}"
            )
        print("faults: " + ", ".join(f"{name} {a:.0f}–{b:.0f} s" for name, a, b in faults))
        for failure in (tally.failures + chat_tally.failures)[:10]:
            print(f"  failed: {failure}")
        for p in parties:
            for anomaly in p.anomalies[:3]:
                print(f"  {p.role} of chat.{p.conv}: {anomaly}")
        ok = all(r[3] for r in rows)
        say("cluster test PASSED" if ok else "cluster test FAILED")
        return 0 if ok else 1
    finally:
        for p in reversed(procs):
            p.stop()
        with contextlib.suppress(Exception):  # never started
            smtp.stop()
        if not opts.keep:
            with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            say(f"kept database {db_name} and {tmp}")


if __name__ == "__main__":
    sys.exit(main())
