"""Signed CTI events accepted per second at 8 clients, with p50/p95 (gunicorn 2 workers × 4 threads, PostgreSQL).

Each client posts a stream of HMAC-signed ``newCall`` / ``answer`` / ``hangup``
events (its own calls) to /calls/cti/<source>/ as a PBX connector would. Every
event is a full ingest: authenticate, rate check, merge on (source, call id),
half-hour delta appended, audit event. Direct use:
``.venv/bin/python bench/figures/cti_webhook.py [--quick]``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import create_database, server_url  # noqa: E402
from api_me import WORKERS, _free_port, _pct, _wait_ready  # noqa: E402

NAME = "cti_webhook"
DESCRIPTION = "Signed CTI webhook events accepted per second at 8 clients, p50/p95 (gunicorn, PostgreSQL)"

ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "kefu_bench_cti"
SECRET = "bench-secret"


def _env() -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"{server_url().rsplit('/', 1)[0]}/{BENCH_DB}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "KEFU_LOG_LEVEL": "WARNING",
    }
    env.pop("KEFU_TESTING", None)
    env.pop("KEFU_DEBUG", None)
    return env


def _prepare(env: dict[str, str]) -> None:
    create_database(BENCH_DB)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True
    )
    script = (
        "import django; django.setup()\n"
        "from kefu.calls.models import CallSource\n"
        f"CallSource.objects.update_or_create(code='bench', defaults={{'name': 'bench', 'auth': 'hmac', "
        f"'secret': '{SECRET}', 'max_events_per_minute': 10**9}})\n"
    )
    subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, check=True)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """As a PBX signs (docs/calls.md): hex HMAC-SHA256 of timestamp + "." + body."""
    import hashlib
    import hmac

    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _load(url: str, *, clients: int, events: int) -> tuple[float, list[float], int]:
    import httpx

    latencies: list[float] = []
    failures: list[str] = []
    errors = 0
    lock = threading.Lock()
    run_id = f"{time.time_ns()}"

    def client(k: int) -> None:
        nonlocal errors
        with httpx.Client(timeout=15) as http:
            for i in range(events // clients):
                call, step = divmod(i, 3)
                event = ("newCall", "answer", "hangup")[step]
                body = json.dumps(
                    {
                        "event": event,
                        "callId": f"{run_id}-{k}-{call}",
                        "from": "13800138000",
                        "to": "4009208566",
                        "direction": "in",
                        "queue": "hotline",
                        "answeringNumber": "8001",
                        "user": ["8001"],
                    }
                ).encode()
                stamp = str(int(time.time()))
                headers = {
                    "Content-Type": "application/json",
                    "X-Kefu-Timestamp": stamp,
                    "X-Kefu-Signature": "sha256=" + sign(SECRET, stamp, body),
                }
                t0 = time.perf_counter()
                try:
                    response = http.post(url, content=body, headers=headers)
                    ok = response.status_code == 200
                    if not ok and not failures:
                        failures.append(f"{response.status_code} {response.text[:300]}")
                except httpx.HTTPError as exc:
                    ok = False
                    failures.append(repr(exc))
                with lock:
                    latencies.append(time.perf_counter() - t0)
                    errors += 0 if ok else 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        print("first failure:", failures[0], file=sys.stderr)
    return len(latencies) / (time.perf_counter() - started), latencies, errors


def _start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """gunicorn as api_me starts it, but its log goes to a file: an unread stderr pipe fills up
    (a warning per request is enough) and then every worker blocks on its next write."""
    cmd = [
        sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(WORKERS), "--worker-class", "gthread", "--threads", "4", "--log-level", "warning",
    ]  # fmt: skip
    with log.open("wb") as sink:
        return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=sink)


def run(quick: bool) -> list[tuple[str, float, str]]:
    import tempfile

    env = _env()
    _prepare(env)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkstemp(prefix="cti_webhook_", suffix=".log")[1])
    proc = _start_server(env, port, log)
    try:
        _wait_ready(base, proc)
        url = f"{base}/calls/cti/bench/"
        _load(url, clients=8, events=48)  # warm both workers
        clients, events = 8, (480 if quick else 4800)
        rps, lat, errors = _load(url, clients=clients, events=events)
        if errors:
            proc.terminate()
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{errors} of {len(lat)} events refused; server log:\n{tail}")
        return [
            (f"load average (1 min), {os.cpu_count()} CPUs", round(os.getloadavg()[0], 1), ""),
            ("cti_webhook_events_per_s", round(rps, 1), "events/s"),
            ("cti_webhook_p50", round(statistics.median(lat) * 1000, 1), "ms"),
            ("cti_webhook_p95", round(_pct(lat, 95) * 1000, 1), "ms"),
            ("cti_webhook_clients", clients, "clients"),
        ]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(*row)
