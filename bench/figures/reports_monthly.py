"""Monthly report with 10,000,000 work orders over 24 months (PostgreSQL): kept figures vs a direct GROUP BY.

The work runs in a child process pointed at its own database
(``kefu_bench_reports``, or ``kefu_bench_reports_quick`` for ``--quick`` at
100,000 orders) on the server of ``KEFU_BENCH_PG_URL`` (default
``postgres://postgres@127.0.0.1:5432/kefu``), created and migrated here. Orders
go in with ``INSERT … SELECT generate_series`` (kinds 40% complaint, 30% fault,
20% consultation, 10% acceptance; 31 provinces; every leaf category; spread
evenly over 24 months); a database that already holds the orders is reused.

Figures: the national table for one month from the rollup (the page, the API),
the same plus the Excel file, one province's table, the same national table by
a GROUP BY over the raw orders, a full rollup rebuild, and an incremental
rollup run after 1,000 orders of the last two months changed category.
Direct use: ``.venv/bin/python bench/figures/reports_monthly.py [--quick]``.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import create_database, run_child  # noqa: E402

NAME = "reports_monthly"
DESCRIPTION = "Monthly report, 10M orders over 24 months: rollup table, Excel, direct GROUP BY (PostgreSQL)"

ROOT = Path(__file__).resolve().parents[2]
FULL, QUICK = 10_000_000, 100_000
BATCH = 1_000_000


def _db(quick: bool) -> str:
    return "kefu_bench_reports_quick" if quick else "kefu_bench_reports"


def run(quick: bool) -> list[tuple[str, float, str]]:
    return run_child(__file__, _db(quick), quick)


# -- the child ----------------------------------------------------------------------


def _refs() -> dict[str, Any]:
    from kefu.customers.models import Customer
    from kefu.org.models import Province, Team, User
    from kefu.tickets.models import Category

    provinces = list(Province.objects.order_by("report_order"))
    customers, teams = [], []
    for p in provinces:
        c, _ = Customer.objects.unscoped("bench fixture").get_or_create(
            account_number=f"BENCH-{p.slug}", defaults={"name": f"{p.name}压测客户", "province": p}
        )
        customers.append(c.pk)
        teams.append(Team.objects.get(code=f"desk_{p.slug}").pk)
    agent, _ = User.objects.get_or_create(username="bench_agent", defaults={"display_name": "压测坐席"})
    root = "cf"
    leaves = [c.pk for c in Category.objects.filter(parent__code=root, children__isnull=True)]
    leaves += [c.pk for c in Category.objects.filter(level=3, parent__parent__code=root)]
    return {
        "provinces": [p.pk for p in provinces],
        "customers": customers,
        "teams": teams,
        "agent": agent.pk,
        "leaves": sorted(set(leaves)),
    }


INSERT = """
INSERT INTO tickets_ticket (number, kind, topic, channel, province_id, customer_id, contact_id, caller_phone,
    category_id, subject, description, status, resume_status, first_contact_team_id, first_contact_agent_id,
    holder_team_id, assignee_id, referred_to, acceptance_outcome, resolution, resolved_from_kb, kb_article_id,
    kb_article_title, off_rule_transfers, created_at, updated_at, resolved_at, closed_at, last_reply_at, version)
SELECT 'B' || lpad(g.i::text, 10, '0'), k.kind, '', (%(channels)s::text[])[1 + (g.h / 7) %% 4],
    (%(provinces)s::bigint[])[1 + g.p], (%(customers)s::bigint[])[1 + g.p], NULL, '',
    CASE WHEN k.kind IN ('complaint', 'fault')
         THEN (%(leaves)s::bigint[])[1 + (g.h / 310) %% %(nleaves)s] END,
    '压测工单', '', 'closed', '', (%(teams)s::bigint[])[1 + g.p], %(agent)s, (%(teams)s::bigint[])[1 + g.p],
    NULL, '', '', '', (g.h / 1000) %% 5 = 0 AND k.kind IN ('consultation', 'complaint'), NULL, '', 0,
    g.at, g.at, g.at + interval '20 hours', g.at + interval '30 hours', NULL, 1
FROM (
    SELECT s.i, h.h, (h.h / 10) %% 31 AS p,
           %(start)s::timestamptz + ((s.i - 1)::float8 * %(span)s / %(n)s) * interval '1 second' AS at
    FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS s(i)
    CROSS JOIN LATERAL (SELECT (s.i * 2654435761) %% 4294967296 AS h) h
) g
CROSS JOIN LATERAL (SELECT CASE WHEN g.h %% 10 < 4 THEN 'complaint' WHEN g.h %% 10 < 7 THEN 'fault'
                               WHEN g.h %% 10 < 9 THEN 'consultation' ELSE 'acceptance' END AS kind) k
"""


def _ensure_indexes() -> float:
    """Build the work-order indexes the model declares (after a bulk load, or a load cut short)."""
    from django.db import connection

    from kefu.tickets.models import Ticket

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'tickets_ticket'")
        if cursor.fetchone()[0] > 2:  # more than the primary key and the unique number
            return 0.0
    started = time.perf_counter()
    with connection.schema_editor() as editor:
        for statement in editor._model_indexes_sql(Ticket):
            editor.execute(statement)
            print(f"  {statement}", file=sys.stderr, flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
    return time.perf_counter() - started


def _load(n: int, first_month: Any, refs: dict[str, Any]) -> float:
    from django.db import connection

    from kefu.reports import months

    start, _ = months.bounds(first_month)
    _, end = months.bounds(months.add_months(first_month, 23))
    span = (end - start).total_seconds()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tickets_ticket")
        if cursor.fetchone()[0] == n:
            return 0.0
        cursor.execute("TRUNCATE tickets_ticket, reports_monthlycount RESTART IDENTITY CASCADE")
        # Loading 10M rows into ~20 indexes is slow; drop the plain ones (not those behind
        # constraints) and build them again afterwards (_ensure_indexes), as for any bulk import.
        cursor.execute(
            "SELECT i.indexname FROM pg_indexes i WHERE i.tablename = 'tickets_ticket' AND NOT EXISTS ("
            " SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        # The generated rows reference rows that exist (looked up above): skip the per-row FK triggers.
        cursor.execute("SET session_replication_role = replica")
        for lo in range(1, n + 1, BATCH):
            hi = min(lo + BATCH - 1, n)
            cursor.execute(
                INSERT,
                {
                    "channels": ["province_desk", "hotline", "online", "account_manager"],
                    "provinces": refs["provinces"],
                    "customers": refs["customers"],
                    "teams": refs["teams"],
                    "agent": refs["agent"],
                    "leaves": refs["leaves"],
                    "nleaves": len(refs["leaves"]),
                    "start": start,
                    "span": span,
                    "n": n,
                    "lo": lo,
                    "hi": hi,
                },
            )
            print(f"  loaded {hi:,}/{n:,}", file=sys.stderr, flush=True)
        cursor.execute("SET session_replication_role = DEFAULT")
    return time.perf_counter() - started


def _median_ms(fn: Any, repeats: int) -> float:
    fn()  # warm the cache: the figure is for a running server, not a cold start
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 1)


def child(quick: bool) -> list[tuple[str, float, str]]:
    create_database(_db(quick))
    import django

    django.setup()
    from datetime import date, timedelta

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from kefu.core.scope import Scope
    from kefu.org.models import Province
    from kefu.reports import export, months, rollup, selectors
    from kefu.reports.models import MonthlyCount, RollupCheckpoint

    call_command("migrate", verbosity=0)
    n = QUICK if quick else FULL
    first_month = date(2024, 10, 1)
    refs = _refs()
    load_s = _load(n, first_month, refs)
    index_s = _ensure_indexes()
    figures: list[tuple[str, float, str]] = []
    label = f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"
    if load_s:
        figures.append((f"load {label} orders (INSERT … generate_series, no indexes)", round(load_s, 1), "s"))
    if index_s:
        figures.append((f"build the work-order indexes over {label} orders", round(index_s, 1), "s"))

    t = time.perf_counter()
    rebuilt = rollup.rebuild_months(months.month_range(first_month, months.add_months(first_month, 23)))
    figures.append(
        (f"rollup: rebuild all 24 months from {label} orders", round(time.perf_counter() - t, 1), "s")
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE reports_monthlycount")
    figures.append(("rollup rows kept (all months)", MonthlyCount.objects.unscoped("bench").count(), "rows"))
    del rebuilt

    month = months.add_months(first_month, 12)
    national = selectors.audience(Scope.everything())
    js = Province.objects.get(slug="js")
    province = selectors.audience(Scope.provinces([js.pk]))
    start, end = months.bounds(month)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM tickets_ticket WHERE created_at >= %s AND created_at < %s", [start, end]
        )
        in_month = cursor.fetchone()[0]
    assert (
        selectors.monthly_table(national, month).as_dict()
        == selectors.monthly_table_direct(national, month).as_dict()
    )
    figures.append((f"orders in the measured month ({months.key(month)})", in_month, "orders"))
    figures.append(
        (
            "national table (全国 + 31), from rollup (median of 9)",
            _median_ms(lambda: selectors.monthly_table(national, month), 9),
            "ms",
        )
    )
    figures.append(
        (
            "province table (江苏), from rollup (median of 9)",
            _median_ms(lambda: selectors.monthly_table(province, month), 9),
            "ms",
        )
    )
    figures.append(
        (
            "national table + Excel file, from rollup (median of 5)",
            _median_ms(
                lambda: export.to_xlsx(
                    selectors.monthly_table(national, month), scope_label="全国", generated_at=timezone.now()
                ),
                5,
            ),
            "ms",
        )
    )
    figures.append(
        (
            "national table by direct GROUP BY over raw orders (median of 3)",
            _median_ms(lambda: selectors.monthly_table_direct(national, month), 3),
            "ms",
        )
    )

    # Incremental: 1,000 orders of the last two months change category after the checkpoint.
    now = timezone.now()
    RollupCheckpoint.objects.update_or_create(name=rollup.CHECKPOINT, defaults={"changed_until": now})
    recent_start, _ = months.bounds(months.add_months(first_month, 22))
    later = now + timedelta(minutes=30)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tickets_ticket SET category_id = %s, updated_at = %s WHERE id IN ("
            " SELECT id FROM tickets_ticket WHERE created_at >= %s AND kind IN ('complaint', 'fault')"
            " ORDER BY id LIMIT 1000)",
            [refs["leaves"][0], later, recent_start],
        )
    t = time.perf_counter()
    result = rollup.run(now=later + timedelta(seconds=1))
    figures.append(
        (
            f"rollup run after 1,000 changed orders ({result.cells} cells recomputed)",
            round((time.perf_counter() - t) * 1000, 1),
            "ms",
        )
    )
    t = time.perf_counter()
    again = rollup.run(now=later + timedelta(seconds=2))
    figures.append(
        (
            f"rollup run again, nothing changed ({again.writes} writes)",
            round((time.perf_counter() - t) * 1000, 1),
            "ms",
        )
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
