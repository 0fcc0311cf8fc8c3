"""Authenticated ``GET /api/me`` under the production server, next to a bare Django view.

Server: gunicorn (WSGI, gthread, as ``./kefu.sh run`` starts it) with 2 worker processes × 4 threads on
127.0.0.1, database PostgreSQL (``kefu_bench_api`` on the server of
``KEFU_BENCH_PG_URL``, default ``postgres://postgres@127.0.0.1:5432/kefu``;
created and migrated on first use). ``/api/me`` is called with a bearer token
(token lookup, memberships, permission list); ``/bench/bare`` is a plain Django
view returning a small JSON object through the same middleware stack, served by
the same processes in the same run: the difference is the API layer's cost.

The load generator is Python threads with keep-alive httpx clients on loopback,
bounded both by request count and by time. It shares the machine's cores with
the server, so the figures are a floor, not a capacity plan.
Direct use: ``.venv/bin/python bench/figures/api_me.py [--quick]``.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

NAME = "api_me"
DESCRIPTION = (
    "GET /api/me (token auth) vs a bare Django view: req/s, p50, p95 under gunicorn 2 workers on PostgreSQL"
)

ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "kefu_bench_api"
WORKERS = 2


def _server_url() -> str:
    return os.environ.get("KEFU_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/kefu")


def _env() -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"{_server_url().rsplit('/', 1)[0]}/{BENCH_DB}",
        "DJANGO_SETTINGS_MODULE": "_bench_site",
        "KEFU_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(ROOT)]),
    }
    env.pop("KEFU_TESTING", None)
    env.pop("KEFU_DEBUG", None)
    return env


def _prepare(env: dict[str, str]) -> str:
    """Create and migrate the bench database; return a fresh bearer token for a Beijing agent."""
    import psycopg

    with psycopg.connect(_server_url().rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,)).fetchone():
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    py = sys.executable
    subprocess.run([py, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True)
    script = (
        "import django; django.setup()\n"
        "from kefu.org.models import User, Team, Membership, ApiToken\n"
        "from kefu.org.access import actor_for\n"
        "from kefu.org import services\n"
        "from django.utils import timezone\n"
        "user, _ = User.objects.get_or_create(username='bench_agent_bj', defaults={'display_name': 'bench'})\n"
        "team = Team.objects.get(code='desk_bj')\n"
        "Membership.objects.get_or_create(user=user, team=team, role='agent')\n"
        "ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())\n"
        "print(services.token_issue(actor=actor_for(user), team=team, name='bench')[1])\n"
    )
    out = subprocess.run([py, "-c", script], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "gthread",
        "--threads",
        "4",
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not become ready")


def _load(
    url: str, headers: dict[str, str], *, concurrency: int, max_requests: int, max_seconds: float
) -> tuple[float, list[float], int]:
    """Closed-loop load: ``concurrency`` threads, each with a keep-alive client. Returns (req/s, latencies s, errors)."""
    import httpx

    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    issued = 0
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        nonlocal issued, errors
        with httpx.Client(headers=headers, timeout=10) as client:
            while True:
                with lock:
                    if issued >= max_requests or time.monotonic() > deadline:
                        return
                    issued += 1
                t0 = time.perf_counter()
                try:
                    ok = client.get(url).status_code == 200
                except httpx.HTTPError:
                    ok = False
                dt = time.perf_counter() - t0
                with lock:
                    latencies.append(dt)
                    errors += 0 if ok else 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies, errors


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(quick: bool) -> list[tuple[str, float, str]]:
    env = _env()
    token = _prepare(env)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start_server(env, port)
    try:
        _wait_ready(base, proc)
        auth = {"Authorization": f"Bearer {token}"}
        n, seconds, conc = (300, 3.0, 4) if quick else (6000, 20.0, 8)
        # Warm both workers (imports, connections) before measuring.
        _load(base + "/api/me", auth, concurrency=conc, max_requests=50, max_seconds=5)
        _load(base + "/bench/bare", {}, concurrency=conc, max_requests=50, max_seconds=5)
        rows: list[tuple[str, float, str]] = []
        for label, path, headers in (("api_me", "/api/me", auth), ("bare_view", "/bench/bare", {})):
            rps, lat, errors = _load(
                base + path, headers, concurrency=conc, max_requests=n, max_seconds=seconds
            )
            if errors:
                raise RuntimeError(f"{path}: {errors} of {len(lat)} requests failed")
            rows += [
                (f"{label}_rps", round(rps, 1), "req/s"),
                (f"{label}_p50", round(statistics.median(lat) * 1000, 2), "ms"),
                (f"{label}_p95", round(_pct(lat, 95) * 1000, 2), "ms"),
            ]
        rows.append(("api_me_concurrency", conc, "clients"))
        return rows
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(*row)
