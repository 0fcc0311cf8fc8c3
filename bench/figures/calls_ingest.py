"""Asterisk queue_log ingest: 1,000,000 lines through the one ingest service on PostgreSQL (lines/s).

The child writes queue_log files (ENTERQUEUE / CONNECT / COMPLETECALLER for
answered calls, ENTERQUEUE / ABANDON for abandons; 100,000 lines a file, as a
PBX rotates them) and feeds each to ``services.file_ingest`` — parse, merge
into calls on (source, call id), half-hour deltas appended and folded at the end of each file — then feeds the
first file again (the same file twice: nothing new, every call re-merged).
Direct use: ``.venv/bin/python bench/figures/calls_ingest.py [--quick]``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import create_database, run_child  # noqa: E402

NAME = "calls_ingest"
DESCRIPTION = "queue_log lines ingested per second through the one ingest service (PostgreSQL), 1M lines"

ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "kefu_bench_calls_ingest"
FILE_LINES = 100_000


def run(quick: bool) -> list[tuple[str, float, str]]:
    return run_child(__file__, BENCH_DB, quick)


def _backend_cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def queue_log_files(total: int, start_epoch: int) -> list[bytes]:
    import random

    rng = random.Random(5)
    files: list[bytes] = []
    lines: list[str] = []
    n = 0
    t = start_epoch
    while n < total:
        t += rng.randrange(1, 4)
        call = f"{t}.{n}"
        queue = "hotline" if rng.random() < 0.5 else f"desk_{rng.choice(['bj', 'sh', 'js', 'gd'])}"
        caller = f"139{rng.randrange(10**8):08d}"
        lines.append(f"{t}|{call}|{queue}|NONE|ENTERQUEUE||{caller}|1")
        if rng.random() < 0.05:
            lines.append(f"{t + 30}|{call}|{queue}|NONE|ABANDON|1|1|30")
            n += 2
        else:
            wait = rng.randrange(2, 40)
            lines.append(f"{t + wait}|{call}|{queue}|SIP/80{rng.randrange(10, 40)}|CONNECT|{wait}|{call}x|3")
            lines.append(f"{t + wait + 200}|{call}|{queue}|SIP/8010|COMPLETECALLER|{wait}|200|1")
            n += 3
        if len(lines) >= FILE_LINES:
            files.append(("\n".join(lines) + "\n").encode())
            lines = []
    if lines:
        files.append(("\n".join(lines) + "\n").encode())
    return files


def child(quick: bool) -> list[tuple[str, float, str]]:
    create_database(BENCH_DB)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from kefu.calls import services
    from kefu.calls.models import Call, CallSource

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE calls_halfhour, calls_daytotal, calls_slotdelta, calls_ingestrun, calls_call RESTART IDENTITY CASCADE"
        )
    source, _ = CallSource.objects.get_or_create(code="bench", defaults={"name": "bench"})
    total = 100_000 if quick else 1_000_000
    files = queue_log_files(total, 1_764_540_000)
    lines = sum(f.count(b"\n") for f in files)
    figures: list[tuple[str, float, str]] = [
        (f"load average (1 min) at start, {os.cpu_count()} CPUs", round(os.getloadavg()[0], 1), "")
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    cpu0, back0 = time.process_time(), _backend_cpu_seconds(pid)
    t0 = time.perf_counter()
    for i, data in enumerate(files):
        run = services.file_ingest(
            actor=None, source=source, fmt="queue_log", filename=f"queue_log.{i}", data=data
        )
        assert run.lines_rejected == 0, run.rejects[:3]
    elapsed = time.perf_counter() - t0
    back1 = _backend_cpu_seconds(pid)
    cpu = time.process_time() - cpu0 + (back1 - back0 if back0 is not None and back1 is not None else 0)
    calls = Call.objects.unscoped("bench").count()
    figures += [
        (f"{lines:,} queue_log lines ({calls:,} calls) ingested", round(elapsed, 1), "s"),
        ("ingest rate (wall)", round(lines / elapsed), "lines/s"),
        # On a shared machine the wall rate is mostly the wait for a CPU; this is the cost itself.
        ("ingest rate per CPU-second (client + PostgreSQL backend)", round(lines / cpu), "lines/s"),
    ]
    t0 = time.perf_counter()
    again = services.file_ingest(
        actor=None, source=source, fmt="queue_log", filename="queue_log.0", data=files[0]
    )
    elapsed = time.perf_counter() - t0
    assert again.calls_created == 0 and again.calls_updated == 0 and again.repeated
    assert Call.objects.unscoped("bench").count() == calls
    figures.append(
        ("the first file again (nothing changes): rate", round(files[0].count(b"\n") / elapsed), "lines/s")
    )
    return figures


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    quick = "--quick" in sys.argv
    if "--child" in sys.argv:
        print(json.dumps(child(quick)))
    else:
        for name, value, unit in run(quick):
            print(f"{name:60s} {value:>10} {unit}")
