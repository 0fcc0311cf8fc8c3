"""A worker killed with SIGKILL in the middle of a sweep: the next sweep runs, and every outcome lands once.

The sweep runs in real child processes (``sweep_child.py``) against a real
database file or the PostgreSQL test database, exactly as the Huey worker runs
the periodic task, so the kill leaves behind whatever a real crash would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from scripts import testdb

CHILD = Path(__file__).with_name("sweep_child.py")
N = 12


def _child_env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    cfg = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = cfg["USER"] + (f":{cfg['PASSWORD']}" if cfg["PASSWORD"] else "")
        env["DATABASE_URL"] = (
            f"postgres://{auth}@{cfg['HOST'] or '127.0.0.1'}:{cfg['PORT'] or 5432}/{cfg['NAME']}"
        )
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
        # A copy of the migrated template (scripts/testdb.py); migrate then finds nothing to do.
        testdb.sqlite_copy(tmp_path / "crash.sqlite3", env)
        subprocess.run(
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "migrate", "-v0"],
            env=env,
            check=True,
            timeout=300,
        )
    return env


def _run(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, str(CHILD), *args], env=env, check=True, timeout=300, capture_output=True, text=True
    ).stdout


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_sweep_does_not_stop_the_next_sweep(tmp_path):
    env = _child_env(tmp_path)
    _run(env, "setup", str(N))

    # Given a sweep that has committed three of twelve auto-accepts and is inside the fourth,
    worker = subprocess.Popen(
        [sys.executable, str(CHILD), "sweep", "0.4"], env=env, stdout=subprocess.PIPE, text=True
    )
    assert worker.stdout is not None
    done = []
    while len(done) < 3:
        line = worker.stdout.readline()
        assert line, "the sweep ended before it could be killed"
        done.append(line.split()[1])
    # when the worker is killed outright,
    worker.kill()
    worker.wait(timeout=30)
    after_kill = json.loads(_run(env, "count"))
    assert after_kill["holder"] and f":{worker.pid}:" in after_kill["holder"], (
        "the dead worker still holds the lease"
    )
    assert after_kill["expired"] >= 3 and after_kill["running"] == N - after_kill["expired"]

    # then the restarted worker's next sweep runs at once (not "unable to acquire lock")
    lines = _run(env, "sweep", "0").splitlines()
    result = json.loads(lines[-1])
    assert "skipped" not in result
    assert result["handled"] == N - after_kill["expired"]
    # and every outcome exists exactly once, with no clock left running.
    final = json.loads(_run(env, "count"))
    assert final == {"expired": N, "distinct": N, "running": 0, "holder": ""}
