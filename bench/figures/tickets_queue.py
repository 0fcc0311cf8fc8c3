"""Workbench queue page and list API with 1,000,000 work orders (PostgreSQL, gunicorn, 2 workers).

A child process COPY-loads 1,000,000 orders (a year, 31 provinces, all four
kinds, 95% archived, the rest in every open state, some held by the hotline)
into its own database (``kefu_bench_tickets_queue`` on the server of
``KEFU_BENCH_PG_URL``, default ``postgres://postgres@127.0.0.1:5432/kefu``),
starts gunicorn (2 workers) and times, one request at a time:

* the queue page ``/tickets/`` (queue counts + first page) for a Beijing desk
  agent and for a hotline agent (national scope), with and without filters;
* the list API ``GET /api/tickets`` for the same two, with filters.

Direct use: ``.venv/bin/python bench/figures/tickets_queue.py [--quick]``.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import create_database, run_child  # noqa: E402

NAME = "tickets_queue"
DESCRIPTION = "Queue page and list API p50/p95 with 1M work orders (gunicorn 2 workers, PostgreSQL)"

ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "kefu_bench_tickets_queue"


def run(quick: bool) -> list[tuple[str, float, str]]:
    return run_child(__file__, BENCH_DB, quick)


# -- the child ----------------------------------------------------------------------


def _copy(table: str, model: Any, rows: Any) -> None:
    from django.db import connection

    cols = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([row.get(c) for c in cols])


OPEN = ["open", "awaiting_acceptance", "accepted", "result_returned", "waiting_customer"]


def _load(orders: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from kefu.customers.models import Customer
    from kefu.org.models import Membership, Province, Role, Team, User
    from kefu.tickets.models import Category, Ticket

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE tickets_ticket, customers_customer RESTART IDENTITY CASCADE")
    now = timezone.now()
    provinces = list(Province.objects.order_by("report_order"))
    per_province = 300
    _copy(
        "customers_customer",
        Customer,
        (
            {
                "name": f"压测客户{p.slug}{i}",
                "account_number": f"QB-{p.slug}-{i:05d}",
                "province_id": p.pk,
                "account_manager_id": None,
                "industry": "enterprise",
                "notes": "",
                "is_active": True,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for p in provinces
            for i in range(per_province)
        ),
    )
    desks = {t.province_id: t for t in Team.objects.filter(kind="province_desk")}
    hotline = Team.objects.get(code="hotline")
    agents = {}
    for p in provinces:
        user, _ = User.objects.get_or_create(username=f"qbench_{p.slug}")
        Membership.objects.get_or_create(user=user, team=desks[p.pk], role=Role.AGENT)
        agents[p.pk] = user.pk
    hot_user, _ = User.objects.get_or_create(username="qbench_hotline")
    Membership.objects.get_or_create(user=hot_user, team=hotline, role=Role.AGENT)
    leaves = list(Category.objects.filter(level=3).values_list("pk", flat=True)) + list(
        Category.objects.filter(code__in=["cf_incident", "cf_other"]).values_list("pk", flat=True)
    )
    consult = Category.objects.get(code="consult").pk
    kinds = [
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
    span = timedelta(days=365).total_seconds()

    def rows() -> Any:
        for i in range(1, orders + 1):
            p = provinces[i % len(provinces)]
            created = now - timedelta(seconds=span * (orders - i) / orders)
            kind = kinds[i % len(kinds)]
            at_hotline = i % 7 == 0
            recent = orders - i < orders // 20
            status = OPEN[i % len(OPEN)] if recent and i % 3 else "closed"
            holder = hotline if at_hotline and status in ("awaiting_acceptance", "accepted") else desks[p.pk]
            first = hotline if at_hotline and kind == "fault" and i % 2 else desks[p.pk]
            yield {
                "number": f"{p.slug.upper()}{timezone.localtime(created):%y%m%d}{i:07d}",
                "kind": kind,
                "topic": "usage"
                if kind == "consultation"
                else ("activation" if kind == "acceptance" else ""),
                "channel": "hotline" if first == hotline else "province_desk",
                "province_id": p.pk,
                "customer_id": (i % len(provinces)) * per_province + (i // len(provinces)) % per_province + 1,
                "contact_id": None,
                "caller_phone": f"139{i:08d}",
                "category_id": leaves[i % len(leaves)]
                if kind in ("complaint", "fault")
                else (consult if kind == "consultation" else None),
                "subject": "会议终端无法登录" if i % 2 else "资费与账单咨询",
                "description": "压测数据",
                "status": status,
                "resume_status": "",
                "first_contact_team_id": first.pk,
                "first_contact_agent_id": hot_user.pk if first == hotline else agents[p.pk],
                "holder_team_id": holder.pk,
                "assignee_id": agents[p.pk] if holder != hotline else None,
                "referred_to": "",
                "acceptance_outcome": "",
                "resolution": "" if status != "closed" else "已处理",
                "resolved_from_kb": kind == "consultation" and i % 2 == 0,
                "kb_article_id": None,
                "kb_article_title": "",
                "off_rule_transfers": 1 if i % 97 == 0 else 0,
                "created_at": created,
                "updated_at": created,
                "resolved_at": created + timedelta(hours=5) if status == "closed" else None,
                "closed_at": created + timedelta(hours=6) if status == "closed" else None,
                "last_reply_at": None,
                "due_at": created + timedelta(hours=48) if status != "closed" else None,
                "version": 1,
            }

    _copy("tickets_ticket", Ticket, rows())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer; ANALYZE tickets_ticket")
        cursor.execute("SELECT setval('tickets_ticket_number_seq', %s)", [orders + 1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(port: int) -> subprocess.Popen[bytes]:
    import httpx

    env = {**os.environ, "KEFU_ALLOWED_HOSTS": "127.0.0.1,localhost"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--worker-class",
            "gthread",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def _session(username: str) -> str:
    from django.test import Client

    from kefu.org.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client.cookies["sessionid"].value


def _time(http: Any, path: str, params: dict[str, Any], samples: int, check: str) -> tuple[float, float]:
    for _ in range(5):
        http.get(path, params=params)
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        r = http.get(path, params=params)
        times.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200 and check in r.text, (path, r.status_code, r.text[:300])
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def child(quick: bool) -> list[tuple[str, float, str]]:
    create_database(BENCH_DB)
    import django

    django.setup()
    import httpx
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    orders = 50_000 if quick else 1_000_000
    samples = 40 if quick else 200
    started = time.perf_counter()
    from kefu.tickets.models import Ticket

    # KEFU_BENCH_REUSE=1 keeps an already loaded database (the load takes minutes at 1M).
    reuse = os.environ.get("KEFU_BENCH_REUSE") == "1" and Ticket.objects.unscoped("bench").count() == orders
    if not reuse:
        _load(orders)
    load_s = time.perf_counter() - started
    port = _free_port()
    server = _serve(port)
    figures: list[tuple[str, float, str]] = []
    if not reuse:
        figures.append((f"COPY load: {orders:,} orders", round(load_s, 1), "s"))
    cases = [
        ("queue page /tickets/ (my team), Beijing desk", "qbench_bj", "/tickets/", {}, "工单工作台"),
        (
            "queue page, all + kind + status filters, Beijing desk",
            "qbench_bj",
            "/tickets/",
            {"queue": "all", "kind": "complaint", "status": "closed"},
            "工单工作台",
        ),
        (
            "queue page /tickets/ (my team), hotline (national)",
            "qbench_hotline",
            "/tickets/",
            {},
            "工单工作台",
        ),
        (
            "queue page, all + province filter, hotline (national)",
            "qbench_hotline",
            "/tickets/",
            {"queue": "all", "province": "440000"},
            "工单工作台",
        ),
        ("GET /api/tickets?queue=all, Beijing desk", "qbench_bj", "/api/tickets", {"queue": "all"}, "items"),
        (
            "GET /api/tickets kind+category+date filters, Beijing desk",
            "qbench_bj",
            "/api/tickets",
            {"queue": "all", "kind": "complaint", "category": "cf_usage", "date_from": "2026-01-01"},
            "items",
        ),
        (
            "GET /api/tickets?queue=awaiting, hotline (national)",
            "qbench_hotline",
            "/api/tickets",
            {"queue": "awaiting"},
            "items",
        ),
        (
            "GET /api/tickets?queue=all&offset=1000, hotline (national)",
            "qbench_hotline",
            "/api/tickets",
            {"queue": "all", "offset": 1000},
            "items",
        ),
    ]
    try:
        for label, user, path, params, check in cases:
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}", timeout=30, cookies={"sessionid": _session(user)}
            ) as http:
                p50, p95 = _time(http, path, params, samples, check)
            figures += [(f"{label}: p50", round(p50, 1), "ms"), (f"{label}: p95", round(p95, 1), "ms")]
    finally:
        server.terminate()
        server.wait(timeout=20)
    return figures


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    quick = "--quick" in sys.argv
    if "--child" in sys.argv:
        print(json.dumps(child(quick)))
    else:
        for name, value, unit in run(quick):
            print(f"{name:70s} {value:>10} {unit}")
