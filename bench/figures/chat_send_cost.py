"""Chat send cost: CPU and SQL per visitor message, in process, through the real socket consumer.

What ``chat_sockets`` measures from outside (daphne), measured here without the network and the
server so that a loaded machine distorts it little: CPU time is counted, not wall time.

A PostgreSQL bench database of its own (``bench_chat``, the same one as ``chat_sockets``) gets
one online agent and C accepted conversations (full: 200, ``--quick``: 40). In one process,
``config.asgi`` is driven with Channels' ``WebsocketCommunicator``: one agent socket subscribed to
every conversation, one visitor socket per conversation (token, own group). Then every visitor
sends ``chat.send`` in turn (M messages; full 2,000, quick 400), and each message is counted once
the visitor has its acknowledgement and the agent socket has the ``chat.message`` event.

Figures: process CPU (all threads: consumer, worker threads, database driver) per visitor message,
SQL statements and transactions per message (the handler alone, counted on one connection), and
the same for an agent message (norms check included). ``--profile`` prints cProfile's top entries.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

NAME = "chat_send_cost"
DESCRIPTION = "CPU ms and SQL statements per visitor / agent chat message, in process through the consumer"
ROOT = Path(__file__).resolve().parents[2]

_spec = importlib.util.spec_from_file_location(
    "bench_chat_sockets_for_cost", Path(__file__).with_name("chat_sockets.py")
)
assert _spec and _spec.loader
cs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cs)


def _count_sql(fn: Any, n: int) -> tuple[float, float]:
    """Statements and transactions (BEGIN/SAVEPOINT-free atomic blocks) per call, on this thread."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        for i in range(n):
            fn(i)
    sql = [q["sql"].upper() for q in ctx.captured_queries]
    # psycopg's implicit BEGIN is not logged; a COMMIT is (Django logs it with the statement list).
    commits = sum(1 for s in sql if s.startswith("COMMIT") or s.startswith("RELEASE SAVEPOINT"))
    return len(sql) / n, commits / n


async def _drive(conversations: list[dict[str, Any]], cookie: str, messages: int) -> dict[str, Any]:
    from channels.testing import WebsocketCommunicator

    from config.asgi import application
    from kefu.realtime.consumers import RealtimeConsumer

    # The per-socket frame limit (20 / 10 s) is a product rule, not what is measured: one agent socket
    # here subscribes to every conversation, and messages go back to back.
    RealtimeConsumer.frames_per_window = 10**9

    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    agent = WebsocketCommunicator(
        application, "/ws/rt/", headers=[*headers, (b"cookie", f"sessionid={cookie}".encode())]
    )
    ok, _ = await agent.connect()
    assert ok
    hello = await agent.receive_json_from(timeout=30)
    assert hello["principal"] == "agent", hello
    for c in conversations:
        await agent.send_json_to({"type": "subscribe", "group": f"chat.{c['conversation']}"})
        got = await agent.receive_json_from(timeout=30)
        assert got["type"] == "subscribed", got
    visitors = []
    for c in conversations:
        v = WebsocketCommunicator(application, "/ws/rt/", headers=headers)
        ok, _ = await v.connect()
        assert ok
        await v.receive_json_from(timeout=30)
        await v.send_json_to({"type": "auth", "token": c["token"]})
        assert (await v.receive_json_from(timeout=30))["type"] == "hello"
        await v.send_json_to({"type": "subscribe", "group": f"chat.{c['conversation']}"})
        assert (await v.receive_json_from(timeout=30))["type"] == "subscribed"
        visitors.append(v)

    async def one(i: int) -> None:
        k = i % len(conversations)
        v = visitors[k]
        cid = f"cost-{os.getpid()}-{i}"
        await v.send_json_to(
            {
                "type": "chat.send",
                "ref": cid,
                "conversation": conversations[k]["conversation"],
                "text": f"第{i}条：会议终端显示网络异常，请帮忙看看。",
                "client_id": cid,
            }
        )
        while True:  # the visitor gets its own message as an event too, and the reply
            got = await v.receive_json_from(timeout=60)
            if got["type"] == "reply":
                assert got.get("ok"), got
                break
            if got["type"] == "error":
                raise RuntimeError(got)
        while True:
            got = await agent.receive_json_from(timeout=60)
            if got.get("event") == "chat.message" and got["payload"]["client_id"] == cid:
                break

    for i in range(min(20, messages)):  # warm up: connections, caches, code paths
        await one(i)
    cpu0, wall0 = time.process_time(), time.monotonic()
    for i in range(messages):
        await one(100000 + i)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    for v in visitors:
        # drain what the visitor still holds (its own events) and close
        await v.disconnect()
    await agent.disconnect()
    return {"cpu_ms": 1000 * cpu / messages, "wall_ms": 1000 * wall / messages}


def child(quick: bool, profile: bool) -> list[tuple[str, float, str]]:
    import django

    django.setup()
    data = cs.setup(40 if quick else 200, 1)
    conversations = data["visitors"]
    cookie = data["agents"][0]["cookie"]
    messages = 400 if quick else 2000

    from kefu.chat.models import Conversation
    from kefu.org.access import actor_for
    from kefu.realtime import actions
    from kefu.realtime import services as rt
    from kefu.realtime.principal import Principal

    # SQL per message, the handler alone on this thread (what the consumer's worker thread runs).
    first = conversations[0]
    token = rt.visitor_token_resolve(first["token"])
    assert token is not None
    vp = Principal(token_id=token.pk, visitor_groups=frozenset(token.groups), address="127.0.0.1")
    conv = Conversation.objects.get(pk=first["conversation"])
    assert conv.agent is not None
    ap = Principal(actor=actor_for(conv.agent), address="127.0.0.1")
    from django.core.cache import cache

    def visitor_msg(i: int) -> None:
        cache.clear()  # the per-minute visitor limit is a product rule, not what is counted here
        actions.run(
            vp,
            "chat.send",
            {"conversation": conv.pk, "text": f"问题{i}：无法入会", "client_id": f"sq-v-{os.getpid()}-{i}"},
        )

    def agent_msg(i: int) -> None:
        actions.run(
            ap,
            "chat.send",
            {
                "conversation": conv.pk,
                "text": f"您好，请重新入会试试（{i}）。",
                "client_id": f"sq-a-{os.getpid()}-{i}",
            },
        )

    v_sql, v_tx = _count_sql(visitor_msg, 20)
    a_sql, a_tx = _count_sql(agent_msg, 20)
    n_alone = 100 if quick else 500
    cpu0 = time.process_time()
    for i in range(n_alone):
        visitor_msg(10**6 + i)
    v_alone = 1000 * (time.process_time() - cpu0) / n_alone
    cpu0 = time.process_time()
    for i in range(n_alone):
        agent_msg(10**6 + i)
    a_alone = 1000 * (time.process_time() - cpu0) / n_alone

    from django.db import connections

    connections.close_all()
    if profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        result = asyncio.run(_drive(conversations, cookie, messages))
        prof.disable()
        pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(60)
        pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(40)
    else:
        result = asyncio.run(_drive(conversations, cookie, messages))
    return [
        ("visitor message: process CPU (consumer + handler + push)", round(result["cpu_ms"], 2), "ms"),
        ("visitor message: wall, one at a time", round(result["wall_ms"], 2), "ms"),
        ("visitor message: CPU of the handler alone (no socket)", round(v_alone, 2), "ms"),
        ("agent message: CPU of the handler alone (norms check included)", round(a_alone, 2), "ms"),
        ("visitor message: SQL statements (handler)", round(v_sql, 1), "statements"),
        ("visitor message: commits (handler)", round(v_tx, 1), "commits"),
        ("agent message: SQL statements (handler, norms check included)", round(a_sql, 1), "statements"),
        ("agent message: commits (handler)", round(a_tx, 1), "commits"),
        ("load average (1 min) at the end", os.getloadavg()[0], ""),
    ]


def run(quick: bool) -> list[tuple[str, float, str]]:
    import subprocess

    cs.create_database()
    env = cs.server_env()
    env["KEFU_RT_RELAY"] = "0"  # one process: nothing to relay
    args = [sys.executable, str(Path(__file__).resolve()), "--child"] + (["--quick"] if quick else [])
    if "--profile" in sys.argv:
        args.append("--profile")
    out = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if "--profile" in sys.argv:
        print(out.stderr[-60000:], file=sys.stderr)
    if out.returncode != 0:
        raise RuntimeError(f"chat_send_cost failed:\n{out.stderr[-4000:]}")
    return [tuple(row) for row in json.loads(out.stdout.strip().splitlines()[-1])]  # type: ignore[misc]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if "--child" in sys.argv:
        print(json.dumps(child("--quick" in sys.argv, "--profile" in sys.argv)))
    else:
        for row in run("--quick" in sys.argv):
            print(*row, flush=True)
