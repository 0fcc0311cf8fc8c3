"""Caller lookup: finding the customer from the number an agent types, with 100k customers (PostgreSQL).

100,000 customers in 31 provinces, 200,000 contacts, 300,000 phone numbers,
COPY-loaded into a bench database of its own (``kefu_bench_customers`` on the
server of ``KEFU_BENCH_PG_URL``, default ``postgres://postgres@127.0.0.1:5432/kefu``).
Timed: the phone lookup selector for a provincial agent (numbers written as
people write them), the general lookup (name prefix) for a national agent, and
``GET /api/customers/lookup?phone=`` through the whole Django stack in process,
and the first page of the list search (name contains) for a national user.
Direct use: ``.venv/bin/python bench/figures/customer_lookup.py [--quick]``.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import create_database, run_child  # noqa: E402

NAME = "customer_lookup"
DESCRIPTION = "Caller lookup by phone / name prefix among 100k customers, 300k numbers (PostgreSQL)"

ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "kefu_bench_customers"
CITIES = ["北京", "上海", "广州", "杭州", "成都", "武汉", "西安", "南京", "沈阳", "昆明"]
BRANDS = ["恒信", "华通", "瑞祥", "鼎盛", "宏达", "新远", "中科", "博远", "海纳", "正泰", "联创", "天成"]
TRADES = ["科技", "物流", "能源", "建设集团", "燃气", "水务集团"]


def run(quick: bool) -> list[tuple[str, float, str]]:
    return run_child(__file__, BENCH_DB, quick)


# -- the child ----------------------------------------------------------------------


def _mobile(i: int) -> str:
    return f"139{i:08d}"


def _landline(i: int) -> str:
    return f"010{20000000 + i}"


def _copy(table: str, model: Any, rows: Any) -> None:
    from django.db import connection

    cols = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([row[c] for c in cols])


def _load(customers: int, now: Any, provinces: list[int]) -> None:
    from django.db import connection

    from kefu.customers.models import Contact, ContactPhone, Customer

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE customers_contactphone, customers_contact, customers_customer RESTART IDENTITY CASCADE"
        )
    _copy(
        "customers_customer",
        Customer,
        (
            {
                "name": f"{CITIES[i % 10]}{BRANDS[(i // 10) % 12]}{TRADES[(i // 120) % 6]}有限公司{i}",
                "account_number": f"XSTB{i:08d}",
                "province_id": provinces[i % len(provinces)],
                "account_manager_id": None,
                "industry": "enterprise",
                "notes": "",
                "is_active": True,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(1, customers + 1)
        ),
    )
    _copy(
        "customers_contact",
        Contact,
        (
            {
                "customer_id": (i + 1) // 2,
                "name": f"联系人{i}",
                "title": "",
                "email": "",
                "is_primary": i % 2 == 1,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(1, 2 * customers + 1)
        ),
    )

    def phones() -> Any:
        for i in range(1, 2 * customers + 1):
            yield {"contact_id": i, "number": _mobile(i), "kind": "mobile", "created_at": now}
            if i % 2:
                yield {"contact_id": i, "number": _landline(i), "kind": "landline", "created_at": now}

    _copy("customers_contactphone", ContactPhone, phones())
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE customers_customer; ANALYZE customers_contact; ANALYZE customers_contactphone"
        )


def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def _time(fn: Any, args: list[Any]) -> tuple[float, float]:
    for a in args[:20]:
        fn(a)  # warm up
    times = []
    for a in args:
        started = time.perf_counter()
        fn(a)
        times.append((time.perf_counter() - started) * 1000)
    return _percentiles(times)


def child(quick: bool) -> list[tuple[str, float, str]]:
    create_database(BENCH_DB)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from kefu.core.scope import Scope
    from kefu.customers import selectors
    from kefu.org.models import Membership, Province, Role, Team, User

    call_command("migrate", verbosity=0)
    customers = 10_000 if quick else 100_000
    samples = 200 if quick else 1000
    provinces = list(Province.objects.order_by("report_order").values_list("pk", flat=True))
    started = time.perf_counter()
    _load(customers, timezone.now(), provinces)
    load_s = time.perf_counter() - started

    rng = random.Random(7)
    bj = provinces[0]
    # Contacts of Beijing customers (customer i is in provinces[i % 31]), numbers as people write them.
    bj_contacts = [c for c in range(1, 2 * customers + 1) if ((c + 1) // 2) % len(provinces) == 0]
    forms = [lambda n: f"+86 {n[:3]}-{n[3:7]}-{n[7:]}", lambda n: n, lambda n: "0086 " + n]
    phone_args = [rng.choice(forms)(_mobile(rng.choice(bj_contacts))) for _ in range(samples)]
    scope_bj = Scope.provinces([bj])
    found = sum(len(selectors.find_by_phone(scope_bj, a)) for a in phone_args[:50])
    assert found == 50, found
    p50, p95 = _time(lambda a: selectors.find_by_phone(scope_bj, a), phone_args)
    figures: list[tuple[str, float, str]] = [
        (
            f"COPY load: {customers // 1000}k customers, {2 * customers // 1000}k contacts, "
            f"{3 * customers // 1000}k numbers",
            round(load_s, 1),
            "s",
        ),
        ("find_by_phone, provincial scope: p50", round(p50, 2), "ms"),
        ("find_by_phone, provincial scope: p95", round(p95, 2), "ms"),
    ]
    name_args = [f"{rng.choice(CITIES)}{rng.choice(BRANDS)}" for _ in range(samples)]
    p50, p95 = _time(lambda a: selectors.lookup(Scope.everything(), a), name_args)
    figures += [
        ("lookup by name prefix (20 max), national scope: p50", round(p50, 2), "ms"),
        ("lookup by name prefix (20 max), national scope: p95", round(p95, 2), "ms"),
    ]

    list_args = [f"{rng.choice(BRANDS)}{rng.choice(TRADES)}" for _ in range(samples // 5)]
    p50, p95 = _time(lambda a: list(selectors.customer_list(Scope.everything(), q=a)[:20]), list_args)
    figures += [
        ("customer list search (name contains), first page, national: p50", round(p50, 2), "ms"),
        ("customer list search (name contains), first page, national: p95", round(p95, 2), "ms"),
    ]

    user, _ = User.objects.get_or_create(username="bench_agent_bj")
    Membership.objects.get_or_create(user=user, team=Team.objects.get(code="desk_bj"), role=Role.AGENT)
    client = Client()
    client.force_login(user)

    def api(a: str) -> None:
        response = client.get("/api/customers/lookup", {"phone": a})
        assert response.status_code == 200 and response.json(), response.content[:200]

    p50, p95 = _time(api, phone_args)
    figures += [
        ("GET /api/customers/lookup?phone= in process: p50", round(p50, 2), "ms"),
        ("GET /api/customers/lookup?phone= in process: p95", round(p95, 2), "ms"),
    ]
    return figures


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    quick = "--quick" in sys.argv
    if "--child" in sys.argv:
        print(json.dumps(child(quick)))
    else:
        for name, value, unit in run(quick):
            print(f"{name:60s} {value:>10} {unit}")
