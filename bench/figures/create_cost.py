"""What one ``POST /api/tickets`` costs in process, measured so the machine's load disturbs it little.

The create goes through the whole Django stack (every middleware, ninja, the service, the answer) with
the test client and a bearer token, on PostgreSQL (``kefu_bench_tickets_create``, shared with
``tickets_create``). Printed: statements per create, CPU ms per create (``time.process_time`` over many
creates: CPU time, not wall time, so other people's processes weigh little), and, when valgrind is
installed, CPU instructions per create counted by callgrind over a fixed number of creates (the same
on a loaded or a quiet machine, to within a fraction of a percent).

Direct use: ``.venv/bin/python bench/figures/create_cost.py [--quick] [--profile]``;
``--profile`` prints cProfile's top functions by own time for 200 creates instead of the figures.
``KEFU_BENCH_NO_CALLGRIND=1`` skips the instruction count (it takes a minute or two).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import create_database, post_create, run_child, server_url  # noqa: E402

NAME = "create_cost"
DESCRIPTION = (
    "one POST /api/tickets in process (all middleware, token auth, PostgreSQL): queries, CPU ms, instructions"
)

ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "kefu_bench_tickets_create"
CALLGRIND_CREATES = 20


def run(quick: bool) -> list[tuple[str, float, str]]:
    return run_child(__file__, BENCH_DB, quick)


def _setup() -> tuple[list[int], str]:
    create_database(BENCH_DB)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tickets_create import _prepare  # the same customers and token as the throughput figure

    return _prepare()


def creator(secret: str, customers: list[int]):  # type: ignore[no-untyped-def]
    """A function doing the i-th create through the test client (201 or raise)."""
    from django.test import Client

    http = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def one(i: int) -> None:
        post_create(http, customers[i % len(customers)], f"inproc-{i}-{time.time_ns()}")

    return one


def in_process(secret: str, customers: list[int], n: int) -> tuple[int, float, float]:
    """(statements per create, CPU ms per create, wall ms median) over ``n`` creates after a warm-up."""
    import statistics

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    one = creator(secret, customers)
    for i in range(10):
        one(i)
    with CaptureQueriesContext(connection) as captured:
        one(0)
    queries = len(captured.captured_queries)
    walls = []
    cpu = time.process_time()
    for i in range(n):
        started = time.perf_counter()
        one(i)
        walls.append((time.perf_counter() - started) * 1000)
    return queries, (time.process_time() - cpu) * 1000 / n, statistics.median(walls)


def _callgrind_child(n: int) -> None:
    """Under valgrind: warm up, then switch instrumentation on for ``n`` creates only."""
    customers, secret = _setup()
    one = creator(secret, customers)
    for i in range(5):
        one(i)
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
    for i in range(n):
        one(i)
    subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)


def instructions_per_create(n: int = CALLGRIND_CREATES) -> float | None:
    if os.environ.get("KEFU_BENCH_NO_CALLGRIND") or not shutil.which("valgrind"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={out}",
                sys.executable,
                str(Path(__file__).resolve()),
                "--callgrind-child",
                str(n),
            ],
            check=True,
            capture_output=True,
            env=os.environ,
            cwd=ROOT,
        )
        total = 0
        for path in Path(tmp).glob("callgrind.out*"):
            for line in path.read_text().splitlines():
                if line.startswith("summary:") or line.startswith("totals:"):
                    total = max(total, int(line.split()[1]))
        return total / n


def _profile(secret: str, customers: list[int]) -> None:
    import cProfile
    import pstats

    one = creator(secret, customers)
    for i in range(10):
        one(i)
    prof = cProfile.Profile(time.process_time)  # CPU, not the waits on PostgreSQL
    prof.enable()
    for i in range(200):
        one(i)
    prof.disable()
    stats = pstats.Stats(prof, stream=sys.stderr)
    stats.sort_stats("tottime").print_stats(45)
    stats.sort_stats("cumulative").print_stats(80)


def child(quick: bool) -> list[tuple[str, float, str]]:
    customers, secret = _setup()
    queries, cpu_ms, wall_ms = in_process(secret, customers, 100 if quick else 1000)
    rows: list[tuple[str, float, str]] = [
        ("one create in process (all middleware, bearer token): statements", queries, "queries"),
        ("one create in process: CPU", round(cpu_ms, 2), "ms"),
        ("one create in process: wall, median", round(wall_ms, 2), "ms"),
    ]
    instructions = instructions_per_create()
    if instructions is not None:
        rows.append(
            (
                f"one create in process: instructions (callgrind, {CALLGRIND_CREATES} creates)",
                round(instructions / 1e6, 2),
                "M",
            )
        )
    rows.append(("load average (1 min) at the end: the machine is shared", round(os.getloadavg()[0], 1), ""))
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    quick = "--quick" in sys.argv
    if "--callgrind-child" in sys.argv:
        _callgrind_child(int(sys.argv[sys.argv.index("--callgrind-child") + 1]))
    elif "--profile" in sys.argv:
        os.environ.setdefault("DATABASE_URL", f"{server_url().rsplit('/', 1)[0]}/{BENCH_DB}")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        os.environ.pop("KEFU_TESTING", None)
        customers, secret = _setup()
        _profile(secret, customers)
    elif "--child" in sys.argv:
        print(json.dumps(child(quick)))
    else:
        for name, value, unit in run(quick):
            print(f"{name:70s} {value:>10} {unit}")
