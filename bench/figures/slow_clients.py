"""Slow clients: 200 connections that stall their request body, with and without nginx in front.

Runs ``scripts/slow_clients.py`` twice: stalled connections straight to gunicorn
(2 workers × 4 threads, as ``./kefu.sh run`` serves) and to nginx with the shipped
``deploy/nginx/kefu-limits.conf``; each time the login page is fetched 20 times
through nginx (5 s timeout). The aim (#15): with nginx, every fetch under 1 s.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

NAME = "slow_clients"
DESCRIPTION = (
    "login page with 200 stalled connections: straight to gunicorn vs behind nginx (answered/20, p50, max)"
)
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "slow_clients.py"


def _run(*args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool) -> list[tuple[str, float, str]]:
    n = "50" if quick else "200"
    direct = _run("--stalled", n, "--direct")
    front = _run("--stalled", n)
    rows: list[tuple[str, float, str]] = []
    for label, r in (("gunicorn alone", direct), ("behind nginx", front)):
        rows.append((f"{label}: login answered with {n} stalled", float(r["ok"]), "of 20"))
        if r["ok"]:
            rows.append((f"{label}: login p50", float(r["p50_ms"]), "ms"))
            rows.append((f"{label}: login max", float(r["max_ms"]), "ms"))
    return rows


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(*row)
