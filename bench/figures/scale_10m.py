"""Growth bench: create, queue and SLA sweep at 1,000,000 and at 10,000,000 work orders (PostgreSQL).

A child process fills its own database (``kefu_bench_scale`` on the server of
``KEFU_BENCH_PG_URL``, default ``postgres://postgres@127.0.0.1:5432/kefu``) with
SQL only (``INSERT … SELECT generate_series``, no ORM, no Python row loop):

* orders at 1 million a month (a national operator's rate, docs/scale.md): the
  newest 40 hours are open (about 55,000 orders in every open state, a seventh
  held by the hotline), everything older is closed;
* per order its resolve clock (running while open, stopped with an outcome once
  closed), and for every seventh order the accept clock of its hop to the
  hotline: about 1.14 clocks per order;
* per order its audit events: created, and for closed orders replied and closed:
  about 3 events per order (30 million at 10M).

The 1M phase loads the newest month; the 10M phase adds the nine months before
it, so the open work is the same and only history grows, which is what happens
in production. Plain indexes are dropped during each load and rebuilt after it
(the standard bulk-load path); constraint indexes stay.

At each size, in process (Django test client, no server; queries and wall time):

* **create**: ``POST /api/tickets`` with a desk agent's token (order, resolve
  clock, audit), median and p95 of 100;
* **queue**: the workbench page ``/tickets/`` for a Beijing desk agent and for a
  hotline agent (national), and ``GET /api/tickets?limit=20``, median and p95 of 30;
* **sweep**: one ``sweep_once`` with 1,000 resolve clocks due among the running
  ones, median of 5.

Results of the 1M phase are kept in the bench database, so a rerun after an
interruption prints both columns without reloading (``KEFU_BENCH_FRESH=1`` starts
over). ``KEFU_BENCH_ORDERS=N`` stops the second phase at N orders instead of 10M (the
newest N of the same history). Direct use: ``nice -n 10 .venv/bin/python bench/figures/scale_10m.py [--quick]``;
progress goes to stderr. ``--quick``: 20,000 and 200,000 orders.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import create_database, post_create, server_url  # noqa: E402

NAME = "scale_10m"
DESCRIPTION = (
    "Create, queue page and SLA sweep at 1M and 10M work orders side by side (PostgreSQL, SQL-generated)"
)

ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "kefu_bench_scale"
PER_MONTH = 1_000_000
STEP_S = 30 * 86400 / PER_MONTH  # seconds between two orders at 1M a month
OPEN_HOURS = 40
DUE = 1000
TABLES = ("tickets_ticket", "sla_clock", "core_auditevent")
OPEN = ["open", "awaiting_acceptance", "accepted", "result_returned", "waiting_customer"]
KINDS = [
    "complaint",
    "complaint",
    "fault",
    "consultation",
    "complaint",
    "fault",
    "consultation",
    "consultation",
    "acceptance",
    "complaint",
]


def run(quick: bool) -> list[tuple[str, float, str]]:
    """Spawn the child on the bench database; its progress goes to our stderr."""
    base = server_url().rsplit("/", 1)[0]
    env = {
        **os.environ,
        "DATABASE_URL": f"{base}/{BENCH_DB}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "KEFU_LOG_LEVEL": "WARNING",
    }
    env.pop("KEFU_TESTING", None)
    args = [sys.executable, str(Path(__file__).resolve()), "--child"] + (["--quick"] if quick else [])
    out = subprocess.run(args, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"scale_10m bench failed (exit {out.returncode}); see its stderr")
    return [tuple(row) for row in json.loads(out.stdout.strip().splitlines()[-1])]  # type: ignore[misc]


# -- the child ----------------------------------------------------------------------


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _refs() -> dict[str, Any]:
    from kefu.org.models import Membership, Province, Role, Team, User
    from kefu.sla.models import Policy
    from kefu.tickets.models import Category

    provinces = list(Province.objects.order_by("report_order"))
    desks = {t.province_id: t.pk for t in Team.objects.filter(kind="province_desk")}
    agents = []
    for p in provinces:
        user, _ = User.objects.get_or_create(
            username=f"scale_{p.slug}", defaults={"display_name": f"压测{p.slug}"}
        )
        Membership.objects.get_or_create(user=user, team_id=desks[p.pk], role=Role.AGENT)
        agents.append(user.pk)
    hotline = Team.objects.get(code="hotline")
    hot_user, _ = User.objects.get_or_create(username="scale_hotline", defaults={"display_name": "压测热线"})
    Membership.objects.get_or_create(user=hot_user, team=hotline, role=Role.AGENT)
    leaves = list(Category.objects.filter(level=3).values_list("pk", flat=True)) + list(
        Category.objects.filter(code__in=["cf_incident", "cf_other"]).values_list("pk", flat=True)
    )
    policy = Policy.objects.get(code="complaint-hotline-resolve")
    return {
        "prov_ids": [p.pk for p in provinces],
        "prov_slugs": [p.slug.upper() for p in provinces],
        "desk_ids": [desks[p.pk] for p in provinces],
        "agent_ids": agents,
        "hotline": hotline.pk,
        "hot_user": hot_user.pk,
        "leaves": leaves,
        "consult": Category.objects.get(code="consult").pk,
        "policy": policy.pk,
        "calendar": policy.calendar_id,
    }


# One order per id; id TOTAL is the newest (created "now"), each smaller id STEP_S seconds older.
ORDERS_SQL = """
INSERT INTO tickets_ticket (id, number, kind, topic, channel, caller_phone, subject, description, status,
  resume_status, referred_to, acceptance_outcome, resolution, resolved_from_kb, kb_article_id, kb_article_title,
  off_rule_transfers, created_at, updated_at, resolved_at, closed_at, last_reply_at, due_at, version, assignee_id,
  category_id, contact_id, customer_id, first_contact_agent_id, first_contact_team_id, holder_team_id, province_id)
SELECT i, (%(slugs)s::text[])[p] || to_char(created, 'YYMMDD') || lpad(i::text, 8, '0'), kind,
  CASE kind WHEN 'consultation' THEN 'usage' WHEN 'acceptance' THEN 'activation' ELSE '' END,
  CASE WHEN hot AND kind = 'fault' THEN 'hotline' ELSE 'province_desk' END,
  '139' || lpad((i %% 100000000)::text, 8, '0'),
  CASE WHEN i %% 2 = 0 THEN '会议终端无法登录' ELSE '资费与账单咨询' END, '压测数据', status, '', '', '',
  CASE WHEN status = 'closed' THEN '已处理' ELSE '' END, kind = 'consultation' AND i %% 2 = 0, NULL, '',
  CASE WHEN i %% 97 = 0 THEN 1 ELSE 0 END, created, created,
  CASE WHEN status = 'closed' THEN created + interval '5 hours' END,
  CASE WHEN status = 'closed' THEN created + interval '6 hours' END, NULL,
  CASE WHEN status <> 'closed' THEN created + interval '48 hours' END, 1,
  CASE WHEN hot AND status IN ('awaiting_acceptance', 'accepted') THEN NULL ELSE (%(agents)s::bigint[])[p] END,
  CASE WHEN kind IN ('complaint', 'fault') THEN (%(leaves)s::bigint[])[1 + i %% cardinality(%(leaves)s::bigint[])]
       WHEN kind = 'consultation' THEN %(consult)s END,
  NULL, 1 + (p - 1) * 300 + (i / 31) %% 300,
  CASE WHEN hot AND kind = 'fault' THEN %(hot_user)s ELSE (%(agents)s::bigint[])[p] END,
  CASE WHEN hot AND kind = 'fault' THEN %(hotline)s ELSE (%(desks)s::bigint[])[p] END,
  CASE WHEN hot AND status IN ('awaiting_acceptance', 'accepted') THEN %(hotline)s ELSE (%(desks)s::bigint[])[p] END,
  (%(provs)s::bigint[])[p]
FROM (
  SELECT i, 1 + i %% 31 AS p, i %% 7 = 0 AS hot, (%(kinds)s::text[])[1 + i %% 10] AS kind, created,
    CASE WHEN created > %(now)s - interval '{open_hours} hours' THEN (%(open)s::text[])[1 + i %% 5] ELSE 'closed' END AS status
  FROM (SELECT i, %(now)s - make_interval(secs => (%(total)s - i) * {step}) AS created
        FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS i) g
) s
"""

# The resolve clock of every order (id = order id) and the accept clock of every seventh order's hop.
CLOCKS_SQL = """
INSERT INTO sla_clock (id, owner_type, owner_id, kind, ticket_kind, service_hours, budget_seconds, warn_ratio,
  status, outcome, started_at, due_at, warn_at, next_check_at, remaining_seconds, paused_at, warned_at,
  breached_at, stopped_at, updated_at, province_id, team_id, policy_id, calendar_id)
SELECT t.id, 'tickets.ticket', t.id, 'resolve', t.kind, false, 172800, 0.75,
  CASE WHEN t.status = 'closed' THEN 'stopped' ELSE 'running' END,
  CASE WHEN t.status <> 'closed' THEN '' WHEN t.id %% 20 = 0 THEN 'late' ELSE 'met' END,
  t.created_at, t.created_at + interval '48 hours', t.created_at + interval '36 hours',
  CASE WHEN t.status = 'closed' THEN NULL
       WHEN t.created_at + interval '36 hours' > %(now)s THEN t.created_at + interval '36 hours'
       ELSE t.created_at + interval '48 hours' END,
  NULL::integer, NULL::timestamptz,
  CASE WHEN t.status <> 'closed' AND t.created_at + interval '36 hours' <= %(now)s
       THEN t.created_at + interval '36 hours' END,
  NULL::timestamptz, t.closed_at, t.updated_at, t.province_id, t.holder_team_id, %(policy)s, %(calendar)s
FROM tickets_ticket t WHERE t.id BETWEEN %(lo)s AND %(hi)s
UNION ALL
SELECT %(total)s + t.id, 'tickets.hop', t.id, 'accept', t.kind, false, 7200, 0.75, 'stopped', 'met',
  t.created_at, t.created_at + interval '2 hours', t.created_at + interval '90 minutes', NULL, NULL, NULL, NULL,
  NULL, t.created_at + interval '30 minutes', t.updated_at, t.province_id, %(hotline)s, %(policy)s, %(calendar)s
FROM tickets_ticket t WHERE t.id BETWEEN %(lo)s AND %(hi)s AND t.id %% 7 = 0
"""

AUDIT_SQL = """
INSERT INTO core_auditevent (id, at, actor_label, unit_code, province_code, verb, target_type, target_id, data,
  actor_id)
SELECT 3 * (t.id - 1) + e.k, CASE e.k WHEN 1 THEN t.created_at WHEN 2 THEN t.created_at + interval '2 hours'
  ELSE t.closed_at END, '压测坐席', '', lower(left(t.number, 2)),
  (ARRAY['ticket.created', 'ticket.replied', 'ticket.closed'])[e.k], 'tickets.ticket', t.id::text,
  '{}'::jsonb, t.first_contact_agent_id
FROM tickets_ticket t CROSS JOIN (VALUES (1), (2), (3)) AS e(k)
WHERE t.id BETWEEN %(lo)s AND %(hi)s AND (e.k = 1 OR t.status = 'closed')
"""


def _customers(refs: dict[str, Any]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE customers_customer RESTART IDENTITY CASCADE")
        cursor.execute(
            """INSERT INTO customers_customer (name, account_number, province_id, account_manager_id, industry,
                 notes, is_active, version, created_at, updated_at)
               SELECT '压测客户' || p || '-' || n, 'SC-' || p || '-' || lpad(n::text, 5, '0'), (%(provs)s::bigint[])[p], NULL,
                 'enterprise', '', true, 1, now(), now()
               FROM generate_series(1, 31) AS p, generate_series(0, 299) AS n ORDER BY p, n""",
            {"provs": refs["prov_ids"]},
        )


def _drop_indexes() -> list[str]:
    """Plain indexes of the three big tables (not the ones behind a constraint): dropped, definitions returned."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_saved_index (name text PRIMARY KEY, def text)")
        cursor.execute(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.tablename = ANY(%s) AND i.schemaname = 'public'
                 AND i.indexname NOT IN (SELECT conname FROM pg_constraint)""",
            [list(TABLES)],
        )
        found = cursor.fetchall()
        for name, definition in found:
            cursor.execute(
                "INSERT INTO bench_saved_index VALUES (%s, %s) ON CONFLICT DO NOTHING", [name, definition]
            )
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SELECT def FROM bench_saved_index")
        return [r[0] for r in cursor.fetchall()]


def _restore_indexes() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_saved_index (name text PRIMARY KEY, def text)")
        cursor.execute("SELECT name, def FROM bench_saved_index ORDER BY name")
        saved = cursor.fetchall()
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for n, (name, definition) in enumerate(saved, 1):
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [name])
            if cursor.fetchone() is None:
                started = time.perf_counter()
                cursor.execute(definition)
                say(f"  index {n}/{len(saved)} {name}: {time.perf_counter() - started:.0f} s")
        cursor.execute("DELETE FROM bench_saved_index")


def _load(lo: int, hi: int, total: int, now: Any, refs: dict[str, Any]) -> float:
    """Orders lo..hi (ids), their clocks and audit events, in chunks, with progress; returns seconds."""
    from django.db import connection, transaction

    started = time.perf_counter()
    _drop_indexes()
    params = {
        "slugs": refs["prov_slugs"],
        "agents": refs["agent_ids"],
        "leaves": refs["leaves"],
        "consult": refs["consult"],
        "hot_user": refs["hot_user"],
        "hotline": refs["hotline"],
        "desks": refs["desk_ids"],
        "provs": refs["prov_ids"],
        "kinds": KINDS,
        "open": OPEN,
        "now": now,
        "total": total,
        "policy": refs["policy"],
        "calendar": refs["calendar"],
    }
    orders_sql = ORDERS_SQL.format(open_hours=OPEN_HOURS, step=STEP_S)
    chunk = 500_000
    done = 0
    # Newest first, one committed chunk at a time: an interrupted load resumes below the oldest loaded id.
    for b in range(hi, lo - 1, -chunk):
        a = max(lo, b - chunk + 1)
        with transaction.atomic(), connection.cursor() as cursor:
            # Bench data only: skip the foreign-key and append-only triggers (ids are valid by construction).
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute(orders_sql, {**params, "lo": a, "hi": b})
            cursor.execute(CLOCKS_SQL, {**params, "lo": a, "hi": b})
            cursor.execute(AUDIT_SQL, {"lo": a, "hi": b})
        done += b - a + 1
        rate = done / (time.perf_counter() - started)
        say(
            f"  {done:,} / {hi - lo + 1:,} orders with clocks and audit ({rate:,.0f} orders/s, "
            f"about {(hi - lo + 1 - done) / rate / 60:.0f} min left)"
        )
    say("  rebuilding indexes")
    _restore_indexes()
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    return time.perf_counter() - started


def _set_due(total: int, now: Any) -> list[int]:
    """The newest DUE open orders' resolve clocks fall due now (reset between sweeps)."""
    from django.db import connection

    ids = list(range(total - DUE + 1, total + 1))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM sla_notice WHERE clock_id = ANY(%s)", [ids])
        cursor.execute(
            """UPDATE sla_clock SET status = 'running', outcome = '', due_at = %(due)s, warn_at = %(warn)s,
                 next_check_at = %(due)s, warned_at = %(warn)s, breached_at = NULL, stopped_at = NULL
               WHERE id = ANY(%(ids)s)""",
            {"ids": ids, "due": now - _td(minutes=5), "warn": now - _td(minutes=30)},
        )
    return ids


def _td(**kw: float) -> Any:
    from datetime import timedelta

    return timedelta(**kw)


def _backend_cpu_seconds(pid: int) -> float | None:
    """utime + stime of the PostgreSQL backend serving us (same machine), or None if unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _pct(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return round(statistics.median(samples), 1), round(samples[max(0, int(len(samples) * 0.95) - 1)], 1)


def _measure(total: int, now: Any) -> dict[str, float]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from kefu.org.access import actor_for
    from kefu.org.models import Team, User
    from kefu.org.services import token_issue
    from kefu.sla.sweep import sweep_once

    out: dict[str, float] = {}
    desk_user = User.objects.get(username="scale_bj")
    team = Team.objects.get(code="desk_bj")
    _token, secret = token_issue(actor=actor_for(desk_user), team=team, name=f"scale-{time.time_ns()}")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    from kefu.customers.models import Customer

    customers = list(
        Customer.objects.unscoped("bench").filter(province__slug="bj").values_list("pk", flat=True)
    )

    def create(i: int) -> None:
        post_create(api, customers[i % len(customers)], f"scale-{total}-{i}-{time.time_ns()}")

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    def sample(fn: Any, n: int, key: str) -> None:
        """Wall and CPU (this process + its PostgreSQL backend) per call, median and p95.

        On this shared machine the wall time mostly measures the queue for a CPU; the CPU
        time is what the operation itself costs, and is what to compare between sizes.
        """
        walls, cpus = [], []
        for i in range(n):
            cpu0, back0 = time.process_time(), _backend_cpu_seconds(pid)
            started = time.perf_counter()
            fn(i)
            walls.append((time.perf_counter() - started) * 1000)
            back1 = _backend_cpu_seconds(pid)
            if back0 is not None and back1 is not None:
                cpus.append((time.process_time() - cpu0 + back1 - back0) * 1000)
        out[f"{key} p50 ms"], out[f"{key} p95 ms"] = _pct(walls)
        if cpus:
            out[f"{key} CPU p50 ms"] = _pct(cpus)[0]
        say(
            f"  {key}: wall p50 {out[f'{key} p50 ms']} ms, p95 {out[f'{key} p95 ms']} ms, "
            f"CPU p50 {out.get(f'{key} CPU p50 ms')} ms"
        )

    for i in range(10):
        create(i)
    with CaptureQueriesContext(connection) as captured:
        create(0)
    out["create queries"] = len(captured.captured_queries)
    sample(create, 60, "create")

    for label, username in (
        ("queue page, Beijing desk", "scale_bj"),
        ("queue page, hotline (national)", "scale_hotline"),
    ):
        page = Client()
        page.force_login(User.objects.get(username=username))
        for _ in range(3):
            page.get("/tickets/")
        with CaptureQueriesContext(connection) as captured:
            r = page.get("/tickets/")
        assert r.status_code == 200, r.status_code
        out[f"{label} queries"] = len(captured.captured_queries)

        def get_page(_i: int, page: Any = page) -> None:
            assert page.get("/tickets/").status_code == 200

        sample(get_page, 20, label)

    def list_api(_i: int) -> None:
        assert api.get("/api/tickets", {"limit": 20}).status_code == 200

    for i in range(3):
        list_api(i)
    sample(list_api, 30, "list API (20)")

    outcomes = [0]

    def sweep(_i: int) -> None:
        result = sweep_once(now=now)
        outcomes[0] = result.breached + result.warned

    # Each sweep finds the same 1,000 clocks due: reset them before each (outside the timing).
    walls, cpus = [], []
    for i in range(5):
        _set_due(total, now)
        cpu0, back0 = time.process_time(), _backend_cpu_seconds(pid)
        started = time.perf_counter()
        sweep(i)
        walls.append((time.perf_counter() - started) * 1000)
        back1 = _backend_cpu_seconds(pid)
        if back0 is not None and back1 is not None:
            cpus.append((time.process_time() - cpu0 + back1 - back0) * 1000)
    out["sweep (1,000 due) ms"] = round(statistics.median(walls), 1)
    if cpus:
        out["sweep (1,000 due) CPU ms"] = round(statistics.median(cpus), 1)
    out["sweep outcomes"] = outcomes[0]
    say(
        f"  sweep: {out['sweep (1,000 due) ms']} ms, CPU {out.get('sweep (1,000 due) CPU ms')} ms, "
        f"{outcomes[0]} outcomes"
    )
    out["load average at measurement"] = round(os.getloadavg()[0], 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sla_clock WHERE status = 'running'")
        out["running clocks"] = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        say(f"  database size {cursor.fetchone()[0]}")
    return out


def child(quick: bool) -> list[tuple[str, float, str]]:
    create_database(BENCH_DB)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    # Pages render in process: plain static URLs, no collected manifest needed (a fresh clone has none).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

    call_command("migrate", verbosity=0)
    # Ids run up to ``top`` (the newest order); a size loads the newest ``size`` of them.
    top = 200_000 if quick else 10_000_000
    small = 20_000 if quick else 1_000_000
    big = int(os.environ.get("KEFU_BENCH_ORDERS", top))
    if not small < big <= top:
        raise SystemExit(f"KEFU_BENCH_ORDERS must be above {small} and at most {top}")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_scale_result (orders bigint PRIMARY KEY, "
            "load_s float, figures jsonb, measured_at timestamptz)"
        )
        if os.environ.get("KEFU_BENCH_FRESH") == "1":
            cursor.execute("TRUNCATE bench_scale_result")
            cursor.execute("SET session_replication_role = replica")  # the audit table's append-only trigger
            cursor.execute("TRUNCATE tickets_ticket, sla_clock, core_auditevent RESTART IDENTITY CASCADE")
            cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("SELECT orders, load_s, figures FROM bench_scale_result")
        kept = {r[0]: (r[1], r[2]) for r in cursor.fetchall()}
        cursor.execute("SELECT coalesce(max(id), 0), count(*) FROM tickets_ticket WHERE id <= %s", [top])
        _top_loaded, count = cursor.fetchone()
    figures: list[tuple[str, float, str]] = [
        (
            f"load average (1 min) at start, {os.cpu_count()} CPUs (machine shared with other work)",
            round(os.getloadavg()[0], 1),
            "",
        )
    ]
    refs = _refs()
    # "now" of the data: fixed at the first load, so both phases and reruns share one history.
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_scale_now (now timestamptz)")
        cursor.execute("SELECT now FROM bench_scale_now")
        row = cursor.fetchone()
        if row is None or (count == 0 and not kept):
            cursor.execute("DELETE FROM bench_scale_now")
            cursor.execute("INSERT INTO bench_scale_now VALUES (%s)", [timezone.now()])
            cursor.execute("SELECT now FROM bench_scale_now")
            row = cursor.fetchone()
    data_now = row[0]
    results: dict[int, tuple[float, dict[str, float]]] = {}
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_saved_index (name text PRIMARY KEY, def text)")
        cursor.execute("SELECT count(*) FROM bench_saved_index")
        if cursor.fetchone()[0]:
            say("an interrupted load left indexes dropped: rebuilding them first")
            _restore_indexes()
    for size in (small, big):
        if size in kept:
            results[size] = kept[size]
            say(f"{size:,} orders: kept from an earlier run")
            continue
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM tickets_ticket WHERE id <= %s", [top])
            have = cursor.fetchone()[0]
        if have == 0:
            _customers(refs)
        lo = top - size + 1
        with connection.cursor() as cursor:
            cursor.execute("SELECT min(id) FROM tickets_ticket WHERE id <= %s", [top])
            low = cursor.fetchone()[0]
        hi = (low - 1) if low else top
        say(f"loading orders {lo:,}..{hi:,} to reach {size:,} (orders, clocks, audit events)")
        load_s = _load(lo, hi, top, data_now, refs) if hi >= lo else 0.0
        with connection.cursor() as cursor:
            for table, floor in (
                ("tickets_ticket", top),
                ("sla_clock", 2 * top),
                ("core_auditevent", 3 * top),
            ):
                # New rows above every generated id (and above the ones the last phase's creates took).
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"GREATEST((SELECT max(id) FROM {table}), %s))",
                    [floor + 1_000_000],
                )
            cursor.execute("SELECT count(*) FROM tickets_ticket")
            say(f"{cursor.fetchone()[0]:,} orders loaded in {load_s / 60:.1f} min; measuring")
        measured = _measure(top, data_now)
        results[size] = (load_s, measured)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_scale_result VALUES (%s, %s, %s, now()) ON CONFLICT (orders) DO UPDATE "
                "SET load_s = excluded.load_s, figures = excluded.figures",
                [size, load_s, json.dumps(measured)],
            )
    a, b = results[small][1], results[big][1]
    ms = f"{small // 1000:,}k" if small < 1_000_000 else f"{small // 1_000_000}M"
    mb = f"{big // 1000:,}k" if big < 1_000_000 else f"{big // 1_000_000}M"
    for key in a:
        unit = "ms" if key.endswith(" ms") else ""
        name = key.removesuffix(" ms")
        figures.append((f"{name} at {ms}", a[key], unit))
        figures.append((f"{name} at {mb}", b.get(key, float("nan")), unit))
        if unit == "ms" and a[key]:
            figures.append((f"{name}: {mb} / {ms}", round(b.get(key, 0) / a[key], 2), "×"))
    figures.append(
        (
            f"SQL load to {ms} (orders + clocks + audit, indexes rebuilt)",
            round(results[small][0] / 60, 1),
            "min",
        )
    )
    figures.append((f"SQL load {ms} → {mb}", round(results[big][0] / 60, 1), "min"))
    return figures


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    quick = "--quick" in sys.argv
    if "--child" in sys.argv:
        print(json.dumps(child(quick)))
    else:
        for name, value, unit in run(quick):
            print(f"{name:70s} {value:>10} {unit}")
