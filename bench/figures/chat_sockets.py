"""Chat sockets: N visitor sockets, each sending a message every 10 s, to M agent sockets, under daphne.

What it does (full run: 1,000 visitors, 20 agents, 60 s; ``--quick``: 200 visitors, 10 agents, 30 s):

1. a PostgreSQL bench database of its own (``bench_chat``, never the product's) gets the
   online team's agents (online, always-open calendar, no cap) and one accepted conversation
   per visitor (``kefu.chat.services``: start + accept, the greeting included);
2. as docs/deploy.md serves sockets: several daphne processes (``--procs``, default one per core)
   on the Redis channel layer, against a redis-server of its own on a free port (started and
   stopped here); ``--memory`` adds a run of one daphne on the in-memory layer, ``--memory-only``
   runs only that;
3. one asyncio client (a small WebSocket client written here, no dependency) spreads the sockets
   round-robin over the daphne processes, as a proxy's upstream would: the agent sockets with
   their session cookie (each subscribes its conversations) and the visitor sockets with their
   tokens (each subscribes its own conversation); then 10 s with every socket open and nothing
   sent (what holding them costs), then every visitor sends ``chat.send`` every 10 s (staggered);
4. delivery latency = the agent socket receiving the ``chat.message`` event minus the visitor's
   send, same clock; ack = the visitor's reply (stored before acknowledged).

Figures: sockets held, messages sent / delivered, delivery p50/p99, ack p50/p99, the daphne
processes' CPU per visitor message over the message phase (and less the idle sockets' CPU),
redis-server's CPU per message, the daphne processes' RSS before the sockets and at the end,
and the load average when sending began and stopped. CPU is counted from /proc (user + system),
which a loaded machine distorts far less than wall time. The machine is shared (2 cores, other
work running): read the latencies as that machine's, not a server's.

Options: ``--quick``, ``--visitors N``, ``--seconds S``, ``--procs P``, ``--memory``/``--memory-only``,
``--pubsub`` (channels_redis's pub/sub layer: ``KEFU_CHANNELS_PUBSUB=1``).
``chat_throughput`` reuses the client and the setup from this file.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NAME = "chat_sockets"
DESCRIPTION = (
    "visitor sockets on several daphne (Redis layer), a message every 10 s each to the agents:"
    " delivery p50/p99, CPU per message, memory"
)
ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "bench_chat"
IDLE_S = 10.0  # sockets open, nothing sent: what holding them costs, measured before the messages


# -- a small WebSocket client (RFC 6455, text frames, client masking) ------------------------------------


class WS:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.closed = False

    @classmethod
    async def open(cls, port: int, headers: dict[str, str]) -> WS:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**20)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            "GET /ws/rt/ HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            f"Origin: http://127.0.0.1:{port}",
            *[f"{k}: {v}" for k, v in headers.items()],
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(head[:200].decode(errors="replace"))
        return cls(reader, writer)

    @staticmethod
    def frame(opcode: int, data: bytes) -> bytes:
        """A client frame (FIN set, masked, as RFC 6455 requires of clients)."""
        n = len(data)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        mask = os.urandom(4)
        m = int.from_bytes((mask * (n // 4 + 1))[:n], "big") if n else 0
        masked = (int.from_bytes(data, "big") ^ m).to_bytes(n, "big") if n else b""
        return header + mask + masked

    async def send(self, obj: dict[str, Any]) -> None:
        self.writer.write(self.frame(0x1, json.dumps(obj, ensure_ascii=False).encode()))
        await self.writer.drain()

    async def recv(self) -> dict[str, Any] | None:
        try:
            return await self._recv()
        except (ConnectionError, asyncio.IncompleteReadError):
            self.closed = True  # dropped without a close frame: not "held" any more
            raise

    async def _recv(self) -> dict[str, Any] | None:
        while True:
            b1, b2 = await self.reader.readexactly(2)
            opcode, n = b1 & 0x0F, b2 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", await self.reader.readexactly(8))
            payload = await self.reader.readexactly(n)
            if opcode == 8:
                self.closed = True
                return None
            if opcode == 9:  # ping -> pong with the ping's payload: daphne closes a socket whose
                # pongs do not echo it once its ping timeout passes (20 s + 30 s); an empty pong
                # made every socket of a run longer than ~50 s silently die
                self.writer.write(self.frame(0xA, payload))
                continue
            if opcode == 1:
                result: dict[str, Any] = json.loads(payload)
                return result

    def close(self) -> None:
        self.closed = True
        self.writer.close()


# -- servers ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def db_url() -> str:
    base = os.environ.get("KEFU_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/kefu").rsplit("/", 1)[0]
    return f"{base}/{BENCH_DB}"


def create_database() -> None:
    import psycopg

    base = db_url().rsplit("/", 1)[0]
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,)).fetchone():
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def server_env(redis_url: str = "") -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": db_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "KEFU_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "KEFU_WS_MAX_GROUPS": "200",  # an agent socket here watches many conversations at once
        "KEFU_WS_MAX_PER_ADDRESS": "10000",  # every client of the bench comes from 127.0.0.1
        "KEFU_LOG_LEVEL": "WARNING",
    }
    env.pop("KEFU_TESTING", None)
    env.pop("CHANNELS_REDIS_URL", None)
    env.pop("KEFU_CHANNELS_PUBSUB", None)
    if redis_url:
        env["CHANNELS_REDIS_URL"] = redis_url
        if "--pubsub" in sys.argv:  # channels_redis's pub/sub layer (config/settings.py)
            env["KEFU_CHANNELS_PUBSUB"] = "1"
    return env


def start_redis() -> tuple[subprocess.Popen[bytes], str, str]:
    exe = shutil.which("redis-server")
    if not exe:
        raise RuntimeError("redis-server not found")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="kefu-bench-redis-")
    proc = subprocess.Popen(
        [
            exe,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_port(port)
    return proc, f"redis://127.0.0.1:{port}/0", workdir


def wait_port(port: int) -> None:
    for _ in range(300):  # start-up, not a measurement
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def start_daphne(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_port(port)
    return proc, port


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (what a loaded machine does not distort much)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


# -- setup (a child process with Django) -----------------------------------------------------------------


def setup(visitors: int, agents: int) -> dict[str, Any]:
    """Run in a child with DATABASE_URL set: agents online, one accepted conversation per visitor."""
    import django

    django.setup()
    from datetime import time as t

    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    from kefu.chat import services
    from kefu.chat.models import ChatSettings, Presence
    from kefu.org.access import actor_for
    from kefu.org.models import Membership, Team, User
    from kefu.sla.models import ServiceCalendar, ServiceHours

    team = Team.objects.get(code="online")
    cal, made = ServiceCalendar.objects.get_or_create(code="bench_always", defaults={"name": "bench always"})
    if made:
        for w in range(7):
            ServiceHours.objects.create(calendar=cal, weekday=w, opens=t(0, 0), closes=t(0, 0))
    ChatSettings.objects.update(calendar=cal, max_concurrent=10000, routing="manual")
    # Earlier runs' agents go offline so that only this run's count.
    Presence.objects.update(status="offline")
    run = f"{int(time.time())}"
    actors = []
    cookies = []
    for i in range(agents):
        u = User.objects.create_user(username=f"bench_{run}_{i}", password=None, display_name=f"坐席{i}")
        Membership.objects.create(user=u, team=team, role="agent")
        Presence.objects.update_or_create(user=u, defaults={"status": "online"})
        actors.append(actor_for(u))
        c = Client()
        c.force_login(u)
        cookies.append(c.cookies["sessionid"].value)
    out_agents: list[dict[str, Any]] = [{"cookie": cookies[i], "conversations": []} for i in range(agents)]
    out_visitors = []
    for v in range(visitors):
        c, raw = services.conversation_start(name=f"访客{v}", unit="压测单位")
        a = v % agents
        services.conversation_accept(actor=actors[a], conversation_id=c.pk)
        out_agents[a]["conversations"].append(c.pk)
        out_visitors.append({"conversation": c.pk, "token": raw, "agent": a})
    return {"agents": out_agents, "visitors": out_visitors}


def run_setup(visitors: int, agents: int, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--setup", str(visitors), str(agents)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"setup failed:\n{out.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# -- the load ----------------------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(-(-len(ordered) * p // 100)) - 1))]


async def request(ws: WS, frame: dict[str, Any], want: str) -> dict[str, Any]:
    """Send and wait for the frame of type ``want`` (set-up only; the load loops read on their own)."""
    await ws.send(frame)
    while True:
        got = await ws.recv()
        if got is None:
            raise ConnectionError("closed during set-up")
        if got.get("type") == want or got.get("type") == "error":
            if got.get("type") == "error":
                raise RuntimeError(got)
            return got


async def open_agent(port: int, agent: dict[str, Any]) -> WS:
    ws = await WS.open(port, {"Cookie": f"sessionid={agent['cookie']}"})
    hello = await ws.recv()
    assert hello and hello.get("principal") == "agent", hello
    for conv in agent["conversations"]:
        await request(ws, {"type": "subscribe", "group": f"chat.{conv}"}, "subscribed")
        await asyncio.sleep(0.55)  # the socket's own limit: 20 frames per 10 s
    return ws


async def open_visitor(port: int, visitor: dict[str, Any]) -> WS | None:
    """A visitor socket (token, own conversation); three tries, None when the server kept refusing."""
    for attempt in range(3):
        try:
            ws = await WS.open(port, {})
            await ws.recv()  # hello (anonymous)
            await request(ws, {"type": "auth", "token": visitor["token"], "ref": "a"}, "hello")
            await request(ws, {"type": "subscribe", "group": f"chat.{visitor['conversation']}"}, "subscribed")
            return ws
        except (ConnectionError, RuntimeError, asyncio.IncompleteReadError, OSError):
            await asyncio.sleep(1 + attempt)
    return None


async def gather_in_batches(coros: list[Any], size: int = 50) -> list[Any]:
    out: list[Any] = []
    for i in range(0, len(coros), size):
        out += await asyncio.gather(*coros[i : i + size])
    return out


async def delivery_reader(ws: WS, sent: dict[str, float], delivered: list[float]) -> None:
    """Read a socket until it closes; each chat message we sent adds its delivery latency."""
    while not ws.closed:
        try:
            got = await ws.recv()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        if got is None:
            return
        if got.get("type") == "event" and got.get("event") == "chat.message":
            cid = got["payload"].get("client_id", "")
            if cid in sent:
                delivered.append(time.monotonic() - sent[cid])


async def load(
    ports: list[int], data: dict[str, Any], seconds: float, every: float, mark: Any = None
) -> dict[str, Any]:
    """Agents and visitors spread round-robin over the servers' ports (as a proxy's upstream does).

    ``mark(phase)`` is called with "sending" once every socket is open and with "stopped" when the
    senders stop, so that the caller can read the servers' CPU for the message phase alone.
    """
    agent_ws = await gather_in_batches(
        [open_agent(ports[i % len(ports)], a) for i, a in enumerate(data["agents"])], 50
    )
    opened = await gather_in_batches(
        [open_visitor(ports[i % len(ports)], v) for i, v in enumerate(data["visitors"])]
    )
    refused = sum(1 for ws in opened if ws is None)
    pairs = [(ws, v) for ws, v in zip(opened, data["visitors"], strict=True) if ws is not None]
    visitor_ws = [ws for ws, _v in pairs]
    sent: dict[str, float] = {}
    delivered: list[float] = []
    acks: list[float] = []
    errors: list[str] = []
    stop = asyncio.Event()

    async def visitor(ws: WS, v: dict[str, Any]) -> None:
        pending: dict[str, float] = {}

        async def reader() -> None:
            while not ws.closed:
                try:
                    got = await ws.recv()
                except (ConnectionError, asyncio.IncompleteReadError):
                    return
                if got is None:
                    return
                if got.get("type") == "reply" and got.get("ref") in pending:
                    acks.append(time.monotonic() - pending.pop(got["ref"]))
                elif got.get("type") == "error":
                    errors.append(str(got.get("code")))

        task = asyncio.create_task(reader())
        await asyncio.sleep(random.uniform(0, every))
        n = 0
        while not stop.is_set():
            n += 1
            cid = f"b{v['conversation']}-{n}"
            now = time.monotonic()
            sent[cid] = now
            pending[cid] = now
            try:
                await ws.send(
                    {
                        "type": "chat.send",
                        "ref": cid,
                        "conversation": v["conversation"],
                        "text": f"第{n}条：会议终端显示网络异常，请帮忙看看。",
                        "client_id": cid,
                    }
                )
            except ConnectionError:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)
        await asyncio.sleep(3)  # let the last acks arrive
        task.cancel()

    readers = [asyncio.create_task(delivery_reader(ws, sent, delivered)) for ws in agent_ws]
    if mark is not None:  # the servers' cost of holding the sockets open, nothing sent
        mark("idle")
        await asyncio.sleep(IDLE_S)
        mark("sending")
    senders = [asyncio.create_task(visitor(ws, v)) for ws, v in pairs]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*senders, return_exceptions=True)
    if mark is not None:
        mark("stopped")
    await asyncio.sleep(2)
    held = sum(1 for ws in agent_ws + visitor_ws if not ws.closed)
    for task in readers:
        task.cancel()
    for ws in agent_ws + visitor_ws:
        ws.close()
    return {
        "held": held,
        "refused": refused,
        "sent": len(sent),
        "delivered": len(delivered),
        "acked": len(acks),
        "errors": len(errors),
        "delivery_ms": [d * 1000 for d in delivered],
        "ack_ms": [a * 1000 for a in acks],
    }


def measure(visitors: int, agents: int, seconds: float, redis: bool, procs: int = 1) -> dict[str, Any]:
    """``procs`` daphne processes (several only on the Redis layer, which every process shares)."""
    create_database()
    redis_proc = None
    workdir = ""
    redis_url = ""
    if redis:
        redis_proc, redis_url, workdir = start_redis()
    else:
        procs = 1  # the in-memory layer reaches only its own process's sockets
    env = server_env(redis_url)
    servers: list[subprocess.Popen[bytes]] = []
    try:
        data = run_setup(visitors, agents, env)
        ports = []
        for _ in range(procs):
            proc, port = start_daphne(env)
            servers.append(proc)
            ports.append(port)
        time.sleep(1)
        pids = [p.pid for p in servers]
        counted = pids + ([redis_proc.pid] if redis_proc is not None else [])
        rss_before = round(sum(rss_mb(pid) for pid in pids), 1)
        marks: dict[str, tuple[float, dict[int, float]]] = {}

        def mark(phase: str) -> None:
            marks[phase] = (os.getloadavg()[0], {pid: cpu_s(pid) for pid in counted})

        result = asyncio.run(load(ports, data, seconds, 10.0, mark))
        _loadi, cpui = marks["idle"]
        load0, cpu0 = marks["sending"]
        load1, cpu1 = marks["stopped"]
        result["cpu_s"] = sum(cpu1[pid] - cpu0[pid] for pid in pids)
        result["idle_cpu_per_s"] = sum(cpu0[pid] - cpui[pid] for pid in pids) / IDLE_S
        result["seconds"] = seconds
        result["redis_cpu_s"] = cpu1[redis_proc.pid] - cpu0[redis_proc.pid] if redis_proc is not None else 0.0
        result["loads"] = (load0, load1)
        result["procs"] = procs
        result["rss_before"] = rss_before
        result["rss_after"] = round(sum(rss_mb(pid) for pid in pids), 1)
    finally:
        for proc in servers:
            stop(proc)
        if redis_proc is not None:
            stop(redis_proc)
            shutil.rmtree(workdir, ignore_errors=True)
    return result


def rows(label: str, visitors: int, agents: int, r: dict[str, Any]) -> list[tuple[str, float, str]]:
    return [
        (f"{label}: sockets held ({visitors} visitors + {agents} agents)", float(r["held"]), "sockets"),
        (f"{label}: visitor sockets refused at opening (3 tries)", float(r["refused"]), "sockets"),
        (
            f"{label}: messages sent / delivered to agents",
            float(r["sent"]),
            f"sent, {r['delivered']} delivered",
        ),
        (f"{label}: delivery p50", round(pct(r["delivery_ms"], 50), 1), "ms"),
        (f"{label}: delivery p99", round(pct(r["delivery_ms"], 99), 1), "ms"),
        (f"{label}: stored+ack p50", round(pct(r["ack_ms"], 50), 1), "ms"),
        (f"{label}: stored+ack p99", round(pct(r["ack_ms"], 99), 1), "ms"),
        (f"{label}: error frames", float(r["errors"]), "frames"),
        (
            f"{label}: daphne CPU per visitor message (message phase, all {r['procs']} daphne)",
            round(1000 * r["cpu_s"] / max(1, r["acked"]), 2),
            "ms",
        ),
        (
            f"{label}: the same less the idle sockets' CPU ({r['idle_cpu_per_s'] * 1000:.0f} ms/s)",
            round(1000 * (r["cpu_s"] - r["idle_cpu_per_s"] * r["seconds"]) / max(1, r["acked"]), 2),
            "ms",
        ),
        (
            f"{label}: redis-server CPU per visitor message",
            round(1000 * r["redis_cpu_s"] / max(1, r["acked"]), 2),
            "ms",
        ),
        (f"{label}: daphne RSS before sockets (sum of {r['procs']})", r["rss_before"], "MB"),
        (f"{label}: daphne RSS at the end (sum of {r['procs']})", r["rss_after"], "MB"),
        (f"{label}: load average (1 min) when sending began", round(r["loads"][0], 2), ""),
        (f"{label}: load average (1 min) when sending stopped", round(r["loads"][1], 2), ""),
    ]


def run(quick: bool) -> list[tuple[str, float, str]]:
    visitors, agents, seconds = (200, 10, 30.0) if quick else (1000, 20, 60.0)
    if "--visitors" in sys.argv:
        visitors = int(sys.argv[sys.argv.index("--visitors") + 1])
    if "--seconds" in sys.argv:
        seconds = float(sys.argv[sys.argv.index("--seconds") + 1])
    procs = int(sys.argv[sys.argv.index("--procs") + 1]) if "--procs" in sys.argv else os.cpu_count() or 1
    out: list[tuple[str, float, str]] = []
    # The production shape (docs/deploy.md): several daphne on the Redis layer. ``--memory`` adds (or,
    # with ``--memory-only``, runs only) one daphne on the in-memory layer.
    layers = [(f"redis {'pub/sub ' if '--pubsub' in sys.argv else ''}layer, {procs} daphne", True)]
    if "--memory" in sys.argv or "--both" in sys.argv:
        layers = [("in-memory layer, 1 daphne", False), *layers]
    if "--memory-only" in sys.argv:
        layers = [("in-memory layer, 1 daphne", False)]
    for label, redis in layers:
        r = measure(visitors, agents, seconds, redis, procs)
        out += rows(label, visitors, agents, r)
        if __name__ == "__main__":  # a long run prints each layer as soon as it is measured
            for row in rows(label, visitors, agents, r):
                print(*row, flush=True)
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if "--setup" in sys.argv:
        i = sys.argv.index("--setup")
        print(json.dumps(setup(int(sys.argv[i + 1]), int(sys.argv[i + 2]))))
    else:
        run("--quick" in sys.argv)
