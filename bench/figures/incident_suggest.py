"""Link suggestions for a new order among 1,000,000 work orders with open incidents (PostgreSQL).

A child process COPY-loads the 1,000,000 orders of ``tickets_queue`` into its own
database (``kefu_bench_incident_suggest``), declares five open incidents through
the service (one national, four for some provinces, two with categories), and
times in-process, one call at a time:

* ``selectors.suggestions_for(order)``: what the order page and the banner ask
  for a new order (open incidents whose provinces, categories and window match);
* ``selectors.candidates(incident, ...)``: the incident page's "suggested orders"
  (open, unlinked orders of the window), national and for one province.

Direct use: ``.venv/bin/python bench/figures/incident_suggest.py [--quick]``
(``KEFU_BENCH_REUSE=1`` keeps an already loaded database).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import create_database, run_child  # noqa: E402

NAME = "incident_suggest"
DESCRIPTION = "Incident link suggestions for a new order among 1M orders: p50/p95 (aim p95 < 50 ms)"
ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "kefu_bench_incident_suggest"


def run(quick: bool) -> list[tuple[str, float, str]]:
    return run_child(__file__, BENCH_DB, quick)


def _p(times: list[float]) -> tuple[float, float]:
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def _time(fn: Any, args: list[Any], check: Any) -> tuple[float, float]:
    for a in args[:5]:
        fn(a)
    times = []
    for a in args:
        started = time.perf_counter()
        out = fn(a)
        times.append((time.perf_counter() - started) * 1000)
        assert check(a, out), (a, out)
    return _p(times)


def child(quick: bool) -> list[tuple[str, float, str]]:
    create_database(BENCH_DB)
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from tickets_queue import _load  # the same 1M orders as the queue figure

    from kefu.core.scope import Scope
    from kefu.incidents import selectors, services
    from kefu.incidents.models import Incident, Link
    from kefu.org.access import actor_for
    from kefu.org.models import Membership, Province, Role, Team, User
    from kefu.tickets.models import Ticket

    orders = 50_000 if quick else 1_000_000
    samples = 50 if quick else 300
    started = time.perf_counter()
    reuse = os.environ.get("KEFU_BENCH_REUSE") == "1" and Ticket.objects.unscoped("bench").count() == orders
    if not reuse:
        _load(orders)
    load_s = time.perf_counter() - started
    Link.objects.unscoped("bench").all().delete()
    Incident.objects.all().delete()
    lead, _ = User.objects.get_or_create(username="ibench_lead")
    Membership.objects.get_or_create(user=lead, team=Team.objects.get(code="hotline"), role=Role.SUPERVISOR)
    actor = actor_for(lead)
    now = timezone.now()
    specs = [
        ((), True, ()),
        (("js", "sh", "zj"), False, ()),
        (("gd",), False, ("cf_usage_login",)),
        (("bj", "tj", "he"), False, ()),
        (("sc", "cq"), False, ("cf_incident", "cf_usage_function")),
    ]
    incidents = []
    for slugs, everywhere, cats in specs:
        incidents.append(
            services.incident_declare(
                actor=actor,
                title="压测事件",
                services="入会",
                symptoms="入会失败",
                impact="P2",
                started_at=now - timedelta(days=3),
                detected_at=now - timedelta(days=3),
                all_provinces=everywhere,
                province_slugs=slugs,
                category_codes=cats,
                now=now,
            )
        )
    # "New" orders: the most recent open ones, across provinces and kinds.
    new = list(Ticket.objects.unscoped("bench").filter(status="open").order_by("-created_at")[:samples])
    figures: list[tuple[str, float, str]] = []
    if not reuse:
        figures.append((f"COPY load: {orders:,} orders", round(load_s, 1), "s"))
    p50, p95 = _time(selectors.suggestions_for, new, lambda t, out: bool(out) or t.kind == "acceptance")
    figures += [
        ("suggestions for a new order (5 open incidents): p50", round(p50, 2), "ms"),
        ("suggestions for a new order (5 open incidents): p95", round(p95, 2), "ms"),
    ]
    # The same query's execution inside PostgreSQL (EXPLAIN ANALYZE): what the database costs, without the
    # Python side and the machine's other load.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    db_times = []
    for t in new[:100]:
        with CaptureQueriesContext(connection) as q:
            selectors.suggestions_for(t)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + q.captured_queries[-1]["sql"])
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            db_times.append(float(plan[0]["Execution Time"]))
    p50, p95 = _p(db_times)
    figures += [
        ("  the same query inside PostgreSQL (EXPLAIN ANALYZE): p50", round(p50, 3), "ms"),
        ("  the same query inside PostgreSQL (EXPLAIN ANALYZE): p95", round(p95, 3), "ms"),
    ]
    national = incidents[0]
    js = Province.objects.get(slug="js")
    for label, scope in (("national", Scope.everything()), ("one province", Scope.provinces([js.pk]))):
        p50, p95 = _time(
            lambda _i, s=scope: selectors.candidates(
                national, since=national.started_at, until=timezone.now(), scope=s, limit=30
            ),
            list(range(samples // 2)),
            lambda _a, out: len(out) > 0,
        )
        figures += [
            (f"incident page: suggested orders ({label}): p50", round(p50, 2), "ms"),
            (f"incident page: suggested orders ({label}): p95", round(p95, 2), "ms"),
        ]
    return figures


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    quick = "--quick" in sys.argv
    if "--child" in sys.argv:
        print(json.dumps(child(quick)))
    else:
        for name, value, unit in run(quick):
            print(f"{name:70s} {value:>10} {unit}")
