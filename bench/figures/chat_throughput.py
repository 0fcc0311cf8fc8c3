"""Chat throughput: agent messages per second stored (norms check included) and delivered to visitors.

Same set-up as ``chat_sockets`` (its client, its PostgreSQL bench database, daphne on a free port).
C conversations (full: 200, ``--quick``: 60) held by 20 agents; one agent socket and one visitor socket
per conversation. Each agent socket sends ``chat.send`` in a closed loop (next message once the last
is acknowledged), no faster than the socket's own frame limit allows (20 frames / 10 s, a product
rule kept here), so the offered ceiling is 1.9 messages/s per socket. Every agent message passes the
norms check (``kefu.norms.services.text_screen``) and is stored before the acknowledgement; the visitor
socket receives it as a ``chat.message`` event.

Figures per channel layer (in-memory; Redis with ``--redis`` or ``--both``: a redis-server of its own):
stored/s, delivered/s, ack p50/p99, delivery p99. The machine is shared (2 cores, other work
running): the figures are that machine's.
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import sys
import time
from pathlib import Path
from typing import Any

NAME = "chat_throughput"
DESCRIPTION = (
    "agent messages/s stored (norms check) and delivered end to end through daphne, per channel layer"
)
_spec = importlib.util.spec_from_file_location(
    "bench_chat_sockets", Path(__file__).with_name("chat_sockets.py")
)
assert _spec and _spec.loader
cs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cs)

PACE_S = 0.53  # 20 frames per 10 s per socket, with a margin
TEXT = "您好，请您检查终端的网络连接后重新入会，如仍有问题请告诉我们。"


async def load(port: int, data: dict[str, Any], seconds: float) -> dict[str, Any]:
    pairs = []
    for v in data["visitors"]:
        agent = data["agents"][v["agent"]]
        pairs.append((agent["cookie"], v))

    async def open_pair(cookie: str, v: dict[str, Any]) -> tuple[Any, Any]:
        a = await cs.WS.open(port, {"Cookie": f"sessionid={cookie}"})
        await a.recv()
        w = await cs.open_visitor(port, v)
        return a, w

    sockets = await cs.gather_in_batches([open_pair(c, v) for c, v in pairs], 20)
    sent: dict[str, float] = {}
    acks: list[float] = []
    delivered: list[float] = []
    errors: list[str] = []
    stop = asyncio.Event()
    t0 = time.monotonic()

    async def agent(ws: Any, v: dict[str, Any]) -> None:
        n = 0
        await asyncio.sleep((v["conversation"] % 10) * PACE_S / 10)
        while not stop.is_set():
            n += 1
            cid = f"t{v['conversation']}-{n}"
            start = time.monotonic()
            sent[cid] = start
            await ws.send(
                {
                    "type": "chat.send",
                    "ref": cid,
                    "conversation": v["conversation"],
                    "text": TEXT,
                    "client_id": cid,
                }
            )
            while True:
                got = await ws.recv()
                if got is None:
                    return
                if got.get("ref") == cid:
                    if got.get("type") == "reply":
                        acks.append(time.monotonic() - start)
                    else:
                        errors.append(str(got.get("code")))
                    break
            rest = PACE_S - (time.monotonic() - start)
            if rest > 0:
                await asyncio.sleep(rest)

    readers = [asyncio.create_task(cs.delivery_reader(w, sent, delivered)) for _a, w in sockets]
    senders = [asyncio.create_task(agent(a, v)) for (a, _w), (_c, v) in zip(sockets, pairs, strict=True)]
    await asyncio.sleep(seconds)
    stop.set()
    elapsed = time.monotonic() - t0
    await asyncio.gather(*senders, return_exceptions=True)
    await asyncio.sleep(2)
    for task in readers:
        task.cancel()
    for a, w in sockets:
        a.close()
        w.close()
    return {"elapsed": elapsed, "acks": acks, "delivered": delivered, "errors": errors, "sent": len(sent)}


def measure(conversations: int, seconds: float, redis: bool) -> dict[str, Any]:
    cs.create_database()
    redis_proc, redis_url, workdir = (None, "", "")
    if redis:
        redis_proc, redis_url, workdir = cs.start_redis()
    env = cs.server_env(redis_url)
    try:
        data = cs.run_setup(conversations, 20, env)
        daphne, port = cs.start_daphne(env)
        try:
            time.sleep(1)
            before = cs.cpu_s(daphne.pid)
            result = asyncio.run(load(port, data, seconds))
            result["cpu_s"] = cs.cpu_s(daphne.pid) - before
            return result
        finally:
            cs.stop(daphne)
    finally:
        if redis_proc is not None:
            cs.stop(redis_proc)
            shutil.rmtree(workdir, ignore_errors=True)


def run(quick: bool) -> list[tuple[str, float, str]]:
    conversations, seconds = (60, 20.0) if quick else (200, 40.0)
    layers = [("in-memory layer", False)]
    if "--redis" in sys.argv or "--both" in sys.argv:
        layers = ([("in-memory layer", False)] if "--both" in sys.argv else []) + [("redis layer", True)]
    out: list[tuple[str, float, str]] = []
    for label, redis in layers:
        r = measure(conversations, seconds, redis)
        ceiling = conversations / PACE_S
        out += [
            (
                f"{label}: stored and acknowledged ({conversations} agent sockets, ceiling {ceiling:.0f}/s)",
                round(len(r["acks"]) / r["elapsed"], 1),
                "messages/s",
            ),
            (
                f"{label}: delivered to visitor sockets",
                round(len(r["delivered"]) / r["elapsed"], 1),
                "messages/s",
            ),
            (f"{label}: ack p50", round(cs.pct([a * 1000 for a in r["acks"]], 50), 1), "ms"),
            (f"{label}: ack p99", round(cs.pct([a * 1000 for a in r["acks"]], 99), 1), "ms"),
            (f"{label}: delivery p99", round(cs.pct([d * 1000 for d in r["delivered"]], 99), 1), "ms"),
            (f"{label}: error frames", float(len(r["errors"])), "frames"),
            (
                f"{label}: daphne CPU per stored message",
                round(1000 * r["cpu_s"] / max(1, len(r["acks"])), 1),
                "ms",
            ),
        ]
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(cs.ROOT))
    for row in run("--quick" in sys.argv):
        print(*row)
