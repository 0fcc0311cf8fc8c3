"""SLA sweep cost: one sweep with 1,000 due clocks among 100,000 and 1,000,000 open ones (PostgreSQL).

The work runs in a child process pointed at its own database (``kefu_bench_sla``
on the server of ``KEFU_BENCH_PG_URL``, default
``postgres://postgres@127.0.0.1:5432/kefu``), created and migrated here; rows
go in with COPY. Direct use: ``.venv/bin/python bench/figures/sla_sweep.py [--quick]``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import create_database, run_child  # noqa: E402

NAME = "sla_sweep"
DESCRIPTION = "One SLA sweep: 1,000 due clocks among 100k and 1M open ones (PostgreSQL, COPY-loaded bench DB)"

ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "kefu_bench_sla"
REPEATS = 5


def run(quick: bool) -> list[tuple[str, float, str]]:
    """Spawn the child on the bench database and return its figures."""
    return run_child(__file__, BENCH_DB, quick)


# -- the child ----------------------------------------------------------------------


def _copy_clocks(first_id: int, count: int, due: int, now: Any, refs: dict[str, Any]) -> None:
    """COPY ``count`` running clocks; the first ``due`` of them owe a breach at ``now``."""
    from datetime import timedelta

    from django.db import connection

    from kefu.sla.models import Clock

    fields = [f for f in Clock._meta.concrete_fields if not f.primary_key]
    cols = [f.column for f in fields]
    teams, provinces = refs["teams"], refs["provinces"]
    with connection.cursor() as cursor:
        # Bench data only: skip the per-row foreign-key triggers while loading (the ids are valid by construction).
        cursor.execute("SET session_replication_role = replica")
        raw = cursor.cursor
        with raw.copy(f"COPY sla_clock ({', '.join(cols)}) FROM STDIN") as copy:
            for i in range(first_id, first_id + count):
                is_due = i < first_id + due
                started = now - timedelta(hours=30 if is_due else (i % 20))
                due_at = started + timedelta(hours=24)
                warn_at = started + timedelta(hours=18)
                row = {
                    "owner_type": "bench.hop",
                    "owner_id": i,
                    "kind": "resolve",
                    "ticket_kind": "complaint",
                    "team_id": teams[i % len(teams)],
                    "province_id": provinces[i % len(provinces)],
                    "policy_id": refs["policy"],
                    "service_hours": False,
                    "calendar_id": refs["calendar"],
                    "budget_seconds": 86400,
                    "warn_ratio": "0.75",
                    "status": "running",
                    "outcome": "",
                    "started_at": started,
                    "due_at": due_at,
                    "warn_at": warn_at,
                    "next_check_at": due_at if is_due else (warn_at if warn_at > now else due_at),
                    "remaining_seconds": None,
                    "paused_at": None,
                    "warned_at": warn_at if is_due or warn_at <= now else None,
                    "breached_at": None,
                    "stopped_at": None,
                    "updated_at": now,
                }
                copy.write_row([row[c] for c in cols])
        cursor.execute("SET session_replication_role = DEFAULT")


def _reset_due(now: Any) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM sla_notice")
        cursor.execute(
            "UPDATE sla_clock SET breached_at = NULL, next_check_at = due_at WHERE breached_at IS NOT NULL"
        )


def _backend_cpu_seconds(pid: int) -> float | None:
    """utime + stime of the PostgreSQL backend serving us (same machine), or None if unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _time_sweep(now: Any) -> tuple[float, float | None, int]:
    """Median wall time, median CPU time (this process + the database backend), outcomes per sweep.

    On a shared, busy machine the wall time mostly measures the queue for a
    CPU; the CPU time is what the sweep itself costs, i.e. close to its wall
    time on an idle machine.
    """
    from django.db import connection

    from kefu.sla.sweep import sweep_once

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    walls, cpus, outcomes = [], [], 0
    for _ in range(REPEATS):
        _reset_due(now)
        cpu0, back0 = time.process_time(), _backend_cpu_seconds(pid)
        started = time.perf_counter()
        result = sweep_once(now=now)
        walls.append((time.perf_counter() - started) * 1000)
        back1 = _backend_cpu_seconds(pid)
        if back0 is not None and back1 is not None:
            cpus.append((time.process_time() - cpu0 + back1 - back0) * 1000)
        outcomes = result.breached + result.warned
    return statistics.median(walls), (statistics.median(cpus) if cpus else None), outcomes


def child(quick: bool) -> list[tuple[str, float, str]]:
    create_database(BENCH_DB)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from kefu.org.models import Province, Team
    from kefu.sla.models import Policy

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE sla_notice, sla_clock RESTART IDENTITY")
    policy = Policy.objects.get(code="complaint-hotline-resolve")
    refs = {
        "teams": list(Team.objects.values_list("pk", flat=True)),
        "provinces": list(Province.objects.values_list("pk", flat=True)),
        "policy": policy.pk,
        "calendar": policy.calendar_id,
    }
    now = timezone.now()
    due = 100 if quick else 1000
    sizes = [10_000, 50_000] if quick else [100_000, 1_000_000]
    # The machine is shared: say how busy it was, since every figure below scales with it.
    figures: list[tuple[str, float, str]] = [
        (f"load average (1 min) at start, {os.cpu_count()} CPUs", round(os.getloadavg()[0], 1), "")
    ]
    loaded = 0
    for size in sizes:
        started = time.perf_counter()
        _copy_clocks(loaded + 1, size - loaded, due if loaded == 0 else 0, now, refs)
        load_s = time.perf_counter() - started
        loaded = size
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sla_clock")
        ms, cpu_ms, outcomes = _time_sweep(now)
        label = f"{size // 1000}k open"
        figures.append(
            (f"sweep, {outcomes} due among {label}: wall time (median of {REPEATS})", round(ms, 1), "ms")
        )
        if cpu_ms is not None:
            figures.append(
                (
                    f"sweep, {outcomes} due among {label}: CPU time, client + PostgreSQL backend",
                    round(cpu_ms, 1),
                    "ms",
                )
            )
        figures.append((f"wall time per due outcome, {label}", round(ms * 1000 / max(outcomes, 1), 1), "µs"))
        figures.append((f"COPY load to {label}", round(load_s, 1), "s"))
    return figures


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    quick = "--quick" in sys.argv
    if "--child" in sys.argv:
        print(json.dumps(child(quick)))
    else:
        for name, value, unit in run(quick):
            print(f"{name:60s} {value:>10} {unit}")
