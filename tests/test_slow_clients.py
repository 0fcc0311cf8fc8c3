"""200 connections that stall their request body do not take the login page down (nginx in front, #15.2).

Runs ``scripts/slow_clients.py`` (real gunicorn as the README serves it, real nginx with
``deploy/nginx/kefu-limits.conf``, loopback only). Under CI nginx is installed by ``.ci/run``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "slow_clients.py"


def test_login_answers_within_a_second_with_200_stalled_connections():
    if not shutil.which("nginx"):
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is missing under CI (.ci/run installs it)")
        pytest.skip("nginx not installed (Debian package nginx)")
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--stalled", "200"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # Without nginx in front none of the 20 is answered (gunicorn's threads all wait on stalled bodies):
    # every one answered within the script's 5 s is the protection. The median says it stays quick; the
    # slowest is the machine's (one 2.5 s answer once, with the PostgreSQL suite running beside it).
    assert result["ok"] == 20, out.stdout
    assert result["p50_ms"] < 1000, out.stdout
