#!/usr/bin/env python3
"""Slow clients: N connections that send their headers and stall the body, then how fast the login page answers.

    .venv/bin/python scripts/slow_clients.py [--stalled 200] [--direct]

Starts gunicorn as the README runs it (2 workers × 4 threads) on a scratch SQLite
database and nginx in front of it with the shipped ``deploy/nginx/kefu-limits.conf``,
both on loopback ports of their own. Opens ``--stalled`` connections to nginx that
each announce a 100 kB login POST and send 10 bytes of it, then fetches the login
page 20 times through nginx and prints the answer times. ``--direct`` opens the
stalled connections to gunicorn itself instead, to show what nginx prevents.
Prints one JSON line last: {"stalled": N, "target": "nginx"|"gunicorn", "ok": n, "p50_ms", "max_ms"}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from scripts import testdb  # noqa: E402 - needs ROOT on the path

LIMITS = ROOT / "deploy" / "nginx" / "kefu-limits.conf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"port {port} did not open")


def fetch_login(port: int, timeout: float) -> float | None:
    """Seconds to get a complete 200 for GET /accounts/login/, or None."""
    started = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(b"GET /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    except OSError:
        return None
    return time.monotonic() - started if data.startswith(b"HTTP/1.1 200") else None


def stall(port: int, n: int) -> list[socket.socket]:
    held = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(
            b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 100000\r\n\r\nusername=a"
        )
        held.append(s)
    return held


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stalled", type=int, default=200)
    ap.add_argument("--direct", action="store_true", help="stall gunicorn itself (no nginx)")
    ap.add_argument("--timeout", type=float, default=5.0)
    opts = ap.parse_args()
    if not shutil.which("nginx"):
        print("needs nginx (Debian package nginx)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="kefu-slow-"))
    env = {k: v for k, v in os.environ.items() if k != "KEFU_TESTING"}
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
            "KEFU_VAR_DIR": str(tmp),
            "KEFU_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "KEFU_LOG_LEVEL": "ERROR",
            "KEFU_STATIC_ROOT": str(tmp / "static"),
        }
    )
    procs: list[subprocess.Popen[bytes]] = []
    held: list[socket.socket] = []
    try:
        # The login page needs the hashed static files (manifest storage outside tests); they are
        # collected while the database is set up: a copy of the migrated template
        # (scripts/testdb.py), on which migrate finds nothing to do.
        static = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v0"], env=env, cwd=ROOT
        )
        testdb.sqlite_copy(tmp / "db.sqlite3", env)
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=env, cwd=ROOT, check=True
        )
        if static.wait() != 0:
            raise SystemExit("collectstatic failed")
        app, front = free_port(), free_port()
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "config.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{app}",
                    "--workers",
                    "2",
                    "--worker-class",
                    "gthread",
                    "--threads",
                    "4",
                    "--log-level",
                    "error",
                ],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        conf = tmp / "nginx.conf"
        conf.write_text(f"""
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log crit;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{front};
    include {LIMITS};
    location / {{ proxy_pass http://127.0.0.1:{app}; proxy_set_header Host $host; }}
  }}
}}
""")
        procs.append(
            subprocess.Popen(
                ["nginx", "-c", str(conf), "-p", str(tmp), "-g", "daemon off;"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_up(app)
        wait_up(front)
        # Warm up both gunicorn workers (the first request of each imports the views).
        deadline, good = time.monotonic() + 300, 0
        while good < 6:
            if time.monotonic() > deadline:
                raise SystemExit("the login page does not answer even without load")
            good = good + 1 if fetch_login(front, 30) is not None else 0
            time.sleep(0.1 if good else 0.5)
        target = app if opts.direct else front
        held = stall(target, opts.stalled)
        time.sleep(1.0)
        times = [fetch_login(front, opts.timeout) for _ in range(20)]
        ok = [t for t in times if t is not None]
        result = {
            "stalled": opts.stalled,
            "target": "gunicorn" if opts.direct else "nginx",
            "ok": len(ok),
            "p50_ms": round(statistics.median(ok) * 1000, 1) if ok else None,
            "max_ms": round(max(ok) * 1000, 1) if ok else None,
        }
        print(
            f"{opts.stalled} stalled connections to {result['target']}: login page answered {len(ok)}/20, "
            f"p50 {result['p50_ms']} ms, max {result['max_ms']} ms"
        )
        print(json.dumps(result))
        return 0
    finally:
        for s in held:
            s.close()
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
