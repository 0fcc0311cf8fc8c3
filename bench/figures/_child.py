"""What every PostgreSQL figure shares: the server URL, its own bench database, and a child process.

A figure's ``run(quick)`` starts itself again as ``--child`` with ``DATABASE_URL``
pointing at the figure's bench database (never the product's), and reads the
figures back from the child's last output line (JSON).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def server_url() -> str:
    return os.environ.get("KEFU_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/kefu")


def create_database(name: str) -> None:
    import psycopg

    with psycopg.connect(server_url().rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def run_child(figure_file: str, bench_db: str, quick: bool) -> list[tuple[str, float, str]]:
    base = server_url().rsplit("/", 1)[0]
    env = {
        **os.environ,
        "DATABASE_URL": f"{base}/{bench_db}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "KEFU_LOG_LEVEL": "WARNING",
    }
    env.pop("KEFU_TESTING", None)
    args = [sys.executable, str(Path(figure_file).resolve()), "--child"] + (["--quick"] if quick else [])
    out = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{Path(figure_file).stem} bench failed:\n{out.stderr[-4000:]}")
    return [tuple(row) for row in json.loads(out.stdout.strip().splitlines()[-1])]  # type: ignore[misc]


def post_create(client: Any, customer_id: int, key: str) -> None:
    """One ``POST /api/tickets`` (a complaint, the benches' usual body) through a Django test client; raises
    unless it answers 201."""
    body = {
        "kind": "complaint",
        "customer_id": customer_id,
        "subject": "会议终端无法登录",
        "description": "压测",
        "category": "cf_usage_login",
    }
    r = client.post("/api/tickets", body, content_type="application/json", headers={"Idempotency-Key": key})
    if r.status_code != 201:
        raise RuntimeError(f"in-process create failed: {r.status_code} {r.content[:300]!r}")
