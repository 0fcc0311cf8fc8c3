"""Create-order API throughput: orders/s and latency at 8 concurrent clients (PostgreSQL, gunicorn, 2 workers).

A child process prepares its own database (``kefu_bench_tickets_create`` on the
server of ``KEFU_BENCH_PG_URL``, default ``postgres://postgres@127.0.0.1:5432/kefu``),
starts the production WSGI server (gunicorn, 2 workers, 4 threads each), and
8 client threads POST ``/api/tickets`` with a bearer token and a fresh
Idempotency-Key each, as fast as answers come back. Every request is the full
path: the token, the scoped customer, the order with its number from the sequence,
its resolve clock, its key and its ``ticket.created`` event (one statement on
PostgreSQL), and the detail answer.

Before the server starts, the same create in process (``create_cost``: Django test client, no
network): its statements, CPU and wall time per create, and CPU instructions counted by callgrind
(when valgrind is installed; ``KEFU_BENCH_NO_CALLGRIND=1`` skips it), which the machine's other load
does not disturb. Under the server, creates and a bare view (``GET /bench/bare``, same middleware)
alternate: four create runs of 500 orders, each between two bare runs, so the machine's drift (a shared
machine's speed changes from minute to minute) weighs on both sides of each run's ratio; the median
ratio is printed with the lowest and highest. The workers' own CPU (from /proc) per create and per bare
request: their ratio is what create/bare throughput would be on an otherwise idle machine. Beside
it, for scale, the same database's floor: a loop of single-row ``INSERT`` + ``COMMIT`` on one
connection, and on 8 connections at once.
Direct use: ``.venv/bin/python bench/figures/tickets_create.py [--quick]``; ``KEFU_BENCH_SERVER=sync``
(gunicorn, 2 sync workers) or ``uvicorn`` (2 workers, as ``./kefu.sh run`` serves) to compare servers.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import create_database, run_child, server_url  # noqa: E402

NAME = "tickets_create"
DESCRIPTION = (
    "POST /api/tickets at 8 concurrent clients: queries and CPU per create, orders/s beside a bare view's "
    "req/s and their ratio, p50/p95 (gunicorn 2 workers, PostgreSQL)"
)

ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "kefu_bench_tickets_create"
CLIENTS = 8
ROUNDS = 4  # create runs, each between two bare runs (--quick: 1)


def _db_url() -> str:
    return f"{server_url().rsplit('/', 1)[0]}/{BENCH_DB}"


def run(quick: bool) -> list[tuple[str, float, str]]:
    return run_child(__file__, BENCH_DB, quick)


# -- the child ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def _prepare() -> tuple[list[int], str]:
    """Customers of Beijing and a desk agent's API token."""
    from kefu.customers.models import Customer
    from kefu.org.access import actor_for
    from kefu.org.models import Membership, Province, Role, Team, User
    from kefu.org.services import token_issue

    bj = Province.objects.get(slug="bj")
    existing = list(Customer.objects.unscoped("bench setup").filter(province=bj).values_list("pk", flat=True))
    if len(existing) < 200:
        Customer.objects.bulk_create(
            [
                Customer(name=f"压测客户{i}", account_number=f"BENCH-{i:06d}", province=bj)
                for i in range(len(existing), 200)
            ]
        )
        existing = list(
            Customer.objects.unscoped("bench setup").filter(province=bj).values_list("pk", flat=True)
        )
    user, _ = User.objects.get_or_create(username="bench_desk_bj", defaults={"display_name": "压测坐席"})
    team = Team.objects.get(code="desk_bj")
    Membership.objects.get_or_create(user=user, team=team, role=Role.AGENT)
    _token, secret = token_issue(actor=actor_for(user), team=team, name="bench")
    return existing, secret


SERVERS = ("gthread", "sync", "uvicorn")  # KEFU_BENCH_SERVER; default gthread, the figures in docs/tickets.md


def _server_kind() -> str:
    kind = os.environ.get("KEFU_BENCH_SERVER", "gthread")
    if kind not in SERVERS:
        raise SystemExit(f"KEFU_BENCH_SERVER must be one of {', '.join(SERVERS)}")
    return kind


def _server_args(kind: str, port: int) -> list[str]:
    """Two worker processes each."""
    if kind == "uvicorn":
        # What ./kefu.sh run starts (ASGI): Django runs each request's sync code in a fresh thread,
        # so CONN_MAX_AGE cannot keep a PostgreSQL connection from one request to the next there.
        return [
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
            "--no-access-log",
            "--lifespan",
            "off",
            "--log-level",
            "warning",
        ]
    threads = ["--threads", "4"] if kind == "gthread" else []
    return [
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        *threads,
        "--worker-class",
        kind,
        "--log-level",
        "warning",
    ]


def _serve(port: int) -> subprocess.Popen[bytes]:
    # The product's settings plus /bench/bare (``_bench_site``): the bare view runs on the same server.
    env = {
        **os.environ,
        "KEFU_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SETTINGS_MODULE": "_bench_site",
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(ROOT)]),
    }
    args = _server_args(_server_kind(), port)
    server = subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    import httpx

    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"{_server_kind()} did not start")


def _load(port: int, secret: str, customers: list[int], per_client: int) -> tuple[float, list[float], int]:
    import httpx

    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS + 1)

    def client(n: int) -> None:
        mine: list[float] = []
        bad = 0
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", timeout=30, headers={"Authorization": f"Bearer {secret}"}
        ) as http:
            barrier.wait()
            for i in range(per_client):
                body = {
                    "kind": "complaint",
                    "customer_id": customers[(n * per_client + i) % len(customers)],
                    "subject": "会议终端无法登录",
                    "description": "压测",
                    "category": "cf_usage_login",
                }
                started = time.perf_counter()
                r = http.post(
                    "/api/tickets", json=body, headers={"Idempotency-Key": f"bench-{n}-{i}-{time.time_ns()}"}
                )
                mine.append((time.perf_counter() - started) * 1000)
                if r.status_code != 201:
                    bad += 1
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - started, latencies, errors[0]


def _bare(port: int, per_client: int) -> tuple[float, list[float]]:
    """Requests/s of ``GET /bench/bare`` (a plain Django view, same middleware) at the same 8 clients."""
    import httpx

    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS + 1)

    def client() -> None:
        mine = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            barrier.wait()
            for _ in range(per_client):
                started = time.perf_counter()
                if http.get("/bench/bare").status_code != 200:
                    raise RuntimeError("bare view failed")
                mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return len(latencies) / (time.perf_counter() - started), latencies


def _insert_loop(rows: int, connections: int) -> float:
    """Rows/s of single-row INSERT + COMMIT (autocommit) on ``connections`` connections at once."""
    import psycopg

    url = _db_url()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_insert_commit (id bigserial primary key, body text, "
            "created_at timestamptz default now())"
        )
        conn.execute("TRUNCATE bench_insert_commit")
    barrier = threading.Barrier(connections + 1)

    def loop() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            barrier.wait()
            for _ in range(rows // connections):
                conn.execute("INSERT INTO bench_insert_commit (body) VALUES (%s)", ("会议终端无法登录",))

    threads = [threading.Thread(target=loop) for _ in range(connections)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return rows / (time.perf_counter() - started)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (the server's workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def child(quick: bool) -> list[tuple[str, float, str]]:
    create_database(BENCH_DB)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    customers, secret = _prepare()
    from create_cost import CALLGRIND_CREATES, in_process, instructions_per_create

    queries, cpu_ms, wall_ms = in_process(secret, customers, 100 if quick else 1000)
    instructions = instructions_per_create()
    per_client = 40 if quick else 256
    rounds = 1 if quick else ROUNDS
    port = _free_port()
    server = _serve(port)
    creates_at: list[float] = []  # each round's orders/s
    bares_at: list[float] = []  # each bare run's req/s: one before each round and one after the last
    latencies: list[float] = []
    bare_n = create_n = 0
    create_s = create_cpu_s = bare_cpu_s = 0.0
    try:
        _load(port, secret, customers, 5)  # warm up both workers' connections and caches
        _bare(port, 20)
        # Bare and create runs alternate (bare, create, bare, ..., bare): the machine's speed drifts, so
        # each round's ratio uses the bare runs on either side of it. The server's own CPU is read
        # around each run: CPU per request does not depend on the load.
        for r in range(rounds + 1):
            cpu0 = _cpu_seconds(server.pid)
            rate, lat = _bare(port, per_client * 2 // rounds)
            cpu1 = _cpu_seconds(server.pid)
            bares_at.append(rate)
            bare_n += len(lat)
            bare_cpu_s += cpu1 - cpu0
            if r == rounds:
                break
            elapsed, lat, errors = _load(port, secret, customers, per_client // rounds)
            if errors:
                raise RuntimeError(f"{errors} create requests failed")
            create_cpu_s += _cpu_seconds(server.pid) - cpu1
            creates_at.append(len(lat) / elapsed)
            latencies += lat
            create_n += len(lat)
            create_s += elapsed
    finally:
        server.terminate()
        server.wait(timeout=20)
    p50, p95 = _pct(latencies)
    rows = 2000 if quick else 10000
    server_note = "" if _server_kind() == "gthread" else f" ({_server_kind()})"
    creates = create_n / create_s
    bare = statistics.mean(bares_at)
    ratios = [100 * c / ((bares_at[i] + bares_at[i + 1]) / 2) for i, c in enumerate(creates_at)]
    create_cpu = create_cpu_s * 1000 / create_n
    bare_cpu = bare_cpu_s * 1000 / bare_n
    load = os.getloadavg()[0]
    out: list[tuple[str, float, str]] = [
        ("one create in process (test client, bearer token): queries", queries, "queries"),
        ("one create in process: CPU", round(cpu_ms, 2), "ms"),
        ("one create in process: wall, median", round(wall_ms, 2), "ms"),
    ]
    if instructions is not None:
        out.append(
            (
                f"one create in process: instructions (callgrind, {CALLGRIND_CREATES} creates)",
                round(instructions / 1e6, 2),
                "M",
            )
        )
    return out + [
        (
            f"POST /api/tickets{server_note}, {CLIENTS} clients, {create_n} orders in {len(creates_at)} runs: throughput",
            round(creates, 1),
            "orders/s",
        ),
        (
            f"bare Django view (same server, middleware, {CLIENTS} clients), mean of {len(bares_at)} runs between",
            round(bare, 1),
            "req/s",
        ),
        (
            "create throughput / bare view throughput (median of the runs' ratios, each to the bare runs beside it)",
            round(statistics.median(ratios), 1),
            "%",
        ),
        ("  lowest run's ratio", round(min(ratios), 1), "%"),
        ("  highest run's ratio", round(max(ratios), 1), "%"),
        ("POST /api/tickets: p50", round(p50, 1), "ms"),
        ("POST /api/tickets: p95", round(p95, 1), "ms"),
        ("server CPU per create (workers' user+system)", round(create_cpu, 2), "ms"),
        ("server CPU per bare request", round(bare_cpu, 2), "ms"),
        (
            "bare CPU / create CPU: the ratio the server would reach alone",
            round(100 * bare_cpu / create_cpu, 1),
            "%",
        ),
        ("load average (1 min) at the end: the machine is shared", round(load, 1), ""),
        (
            "same database, single-row INSERT+COMMIT loop, 1 connection",
            round(_insert_loop(rows, 1)),
            "rows/s",
        ),
        (
            f"same database, single-row INSERT+COMMIT loop, {CLIENTS} connections",
            round(_insert_loop(rows, CLIENTS)),
            "rows/s",
        ),
    ]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    quick = "--quick" in sys.argv
    if "--child" in sys.argv:
        print(json.dumps(child(quick)))
    else:
        for name, value, unit in run(quick):
            print(f"{name:70s} {value:>10} {unit}")
