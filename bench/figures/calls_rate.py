"""The month's 20-second answer rate by line and half hour over 3,000,000 calls (PostgreSQL): p95 < 100 ms.

The child loads 3M calls (COPY) spread over 30 days and the 32 lines (the
hotline carries half of them), builds the half-hour and day rows from the calls with
grouped INSERTs (the counts ``services.rollups_fold`` keeps; checked against a
direct count of the calls for one line), then times
``selectors.rate_figures`` for the month — every line's total, per day, and the
half hours of one line, as the rates page asks — and the same with the half
hours of all 32 lines (the Excel sheet). Direct use:
``.venv/bin/python bench/figures/calls_rate.py [--quick]``.
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

NAME = "calls_rate"
DESCRIPTION = (
    "Month's 20-s answer rate by line, day and half hour over 3M calls (PostgreSQL rollups): p50/p95"
)

ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "kefu_bench_calls"
REPEATS = 40


def run(quick: bool) -> list[tuple[str, float, str]]:
    return run_child(__file__, BENCH_DB, quick)


def _copy_calls(count: int, start: Any, lines: list[tuple[int, int | None]], source_id: int) -> None:
    import random
    from datetime import timedelta

    from django.db import connection

    rng = random.Random(11)
    cols = [
        "source_id",
        "call_id",
        "line_id",
        "province_id",
        "direction",
        "queue",
        "caller_raw",
        "caller",
        "callee",
        "started_at",
        "queued_at",
        "request_at",
        "answered_at",
        "answered_in_target",
        "ended_at",
        "agent_ref",
        "agent_unknown",
        "outcome",
        "hint",
        "cause",
        "wait_seconds",
        "talk_seconds",
        "events",
        "created_at",
        "updated_at",
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        with cursor.cursor.copy(f"COPY calls_call ({', '.join(cols)}) FROM STDIN") as copy:
            for i in range(count):
                line_id, province_id = lines[0] if i % 2 == 0 else lines[1 + i % (len(lines) - 1)]
                # local 07:30-20:30 mostly, as a day curve would
                day = rng.randrange(30)
                second = int(rng.triangular(-1800, 12 * 3600 + 1800, 3 * 3600))
                request = start + timedelta(days=day, hours=8, seconds=second)
                roll = rng.random()
                answered = (
                    None
                    if roll < 0.05
                    else request
                    + timedelta(seconds=rng.uniform(2, 20) if roll < 0.93 else rng.uniform(21, 90))
                )
                wait = int((answered - request).total_seconds()) if answered else int(rng.uniform(5, 60))
                talk = int(rng.uniform(60, 600)) if answered else 0
                ended = (answered or request) + timedelta(seconds=talk or wait)
                copy.write_row(
                    [
                        source_id,
                        f"b{i}",
                        line_id,
                        province_id,
                        "in",
                        "q",
                        "",
                        "",
                        "",
                        request,
                        request,
                        request,
                        answered,
                        bool(answered and wait <= 20),
                        ended,
                        "",
                        False,
                        "answered" if answered else "abandoned",
                        "",
                        "",
                        wait,
                        talk,
                        "[]",
                        ended,
                        ended,
                    ]
                )
        cursor.execute("SET session_replication_role = DEFAULT")


ROLLUP_SQL = """
INSERT INTO calls_halfhour (line_id, province_id, slot, day, in_hours, offered, answered, answered_in_target, abandoned,
                            wait_answered_seconds, talk_seconds)
SELECT line_id, province_id, slot, (slot AT TIME ZONE 'Asia/Shanghai')::date,
       extract(hour from slot AT TIME ZONE 'Asia/Shanghai') BETWEEN 8 AND 19,
       count(*), count(answered_at), count(*) FILTER (WHERE answered_in_target),
       count(*) FILTER (WHERE outcome = 'abandoned'),
       coalesce(sum(wait_seconds) FILTER (WHERE answered_at IS NOT NULL), 0),
       coalesce(sum(talk_seconds) FILTER (WHERE answered_at IS NOT NULL), 0)
FROM (SELECT *, date_bin('30 minutes', request_at, TIMESTAMPTZ '2000-01-01 00:00:00+08') AS slot
      FROM calls_call WHERE direction = 'in' AND request_at IS NOT NULL) c
GROUP BY line_id, province_id, slot
"""

# The day rollup the fold keeps beside the half hours (services.rollups_fold).
DAY_ROLLUP_SQL = """
INSERT INTO calls_daytotal (line_id, province_id, day, in_hours, offered, answered, answered_in_target, abandoned,
                            wait_answered_seconds, talk_seconds)
SELECT line_id, province_id, day, in_hours, sum(offered), sum(answered), sum(answered_in_target), sum(abandoned),
       sum(wait_answered_seconds), sum(talk_seconds)
FROM calls_halfhour GROUP BY line_id, province_id, day, in_hours
"""


def _backend_cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _timed(fn: Any) -> tuple[float, float, float | None]:
    """p50 and p95 wall time, and the median CPU time (this process + the PostgreSQL backend) per call.

    The machine is shared: the wall time includes waiting for a CPU; the CPU time is what one
    request costs, close to its wall time on a quiet machine.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    times, cpus = [], []
    for _ in range(REPEATS):
        cpu0, back0 = time.process_time(), _backend_cpu_seconds(pid)
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
        back1 = _backend_cpu_seconds(pid)
        if back0 is not None and back1 is not None:
            cpus.append((time.process_time() - cpu0 + back1 - back0) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return statistics.median(times), p95, (statistics.median(cpus) if cpus else None)


def child(quick: bool) -> list[tuple[str, float, str]]:
    create_database(BENCH_DB)
    import django

    django.setup()
    from datetime import date, datetime
    from datetime import time as dtime
    from zoneinfo import ZoneInfo

    from django.core.management import call_command
    from django.db import connection

    from kefu.calls import selectors
    from kefu.calls.models import Call, CallSource, HalfHour, Line
    from kefu.core.scope import Scope

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE calls_halfhour, calls_daytotal, calls_slotdelta, calls_ratealert, calls_screenpop, calls_callticket, calls_call RESTART IDENTITY CASCADE"
        )
    source, _ = CallSource.objects.get_or_create(code="bench", defaults={"name": "bench"})
    lines = list(Line.objects.unscoped("bench").order_by("kind", "code").values_list("pk", "province_id"))
    hotline = Line.objects.unscoped("bench").get(code="hotline")
    lines.sort(key=lambda row: row[0] != hotline.pk)
    count = 300_000 if quick else 3_000_000
    first = date(2026, 11, 1)
    start = datetime.combine(first, dtime(0), tzinfo=ZoneInfo("Asia/Shanghai"))
    figures: list[tuple[str, float, str]] = [
        (f"load average (1 min) at start, {os.cpu_count()} CPUs", round(os.getloadavg()[0], 1), "")
    ]
    t0 = time.perf_counter()
    _copy_calls(count, start, lines, source.pk)
    figures.append((f"COPY {count:,} calls", round(time.perf_counter() - t0, 1), "s"))
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(ROLLUP_SQL)
        cursor.execute(DAY_ROLLUP_SQL)
        cursor.execute("ANALYZE calls_halfhour")
        cursor.execute("ANALYZE calls_daytotal")
        cursor.execute("ANALYZE calls_slotdelta")
    figures.append(("half-hour rows built from the calls", round(time.perf_counter() - t0, 1), "s"))
    everything = Scope.everything()
    end = date(2026, 11, 30)
    # The rollup agrees with the calls (inside the calendar) for the hotline.
    result = selectors.rate_figures(everything, start=first, end=end, with_slots=False, slots_for="hotline")
    hot = next(f for f in result if f.line.code == "hotline")
    direct = Call.objects.unscoped("bench").filter(line=hotline, answered_in_target=True).count()
    outside = HalfHour.objects.unscoped("bench").filter(line=hotline, in_hours=False)
    outside_in_target = sum(outside.values_list("answered_in_target", flat=True))
    assert hot.total.answered_in_target + outside_in_target == direct, "rollup disagrees with the calls"
    assert len(hot.slots) == 30 * 24, len(hot.slots)
    figures.append(("hotline month rate (check)", round(hot.total.rate or 0, 2), "%"))

    def page() -> None:
        selectors.rate_figures(everything, start=first, end=end, with_slots=False, slots_for="hotline")

    def sheet() -> None:
        selectors.rate_figures(everything, start=first, end=end, with_slots=True)

    page()
    for label, fn in (
        ("rates page (32 lines by month and day, hotline by half hour)", page),
        ("every line by half hour (the Excel sheet's data)", sheet),
    ):
        p50, p95, cpu = _timed(fn)
        figures += [(f"{label}: p50", round(p50, 1), "ms"), (f"{label}: p95", round(p95, 1), "ms")]
        if cpu is not None:
            figures.append(
                (f"{label}: CPU per request, client + PostgreSQL backend (median)", round(cpu, 1), "ms")
            )
    return figures


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    quick = "--quick" in sys.argv
    if "--child" in sys.argv:
        print(json.dumps(child(quick)))
    else:
        for name, value, unit in run(quick):
            print(f"{name:70s} {value:>10} {unit}")
