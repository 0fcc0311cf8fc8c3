"""Bulk reply and resolution of 5,000 linked orders when an incident ends (PostgreSQL).

A child process creates 5,000 complaint orders through ``tickets.services.ticket_create``
(so each has its SLA resolve clock) in its own database (``kefu_bench_incident_bulk``),
links them to an incident, resolves the incident and times
``incidents.bulk.bulk_resolve``: chunks of 100 orders, each order its own savepoint, reply,
audit event and clock stop, acting as the ``incident_bulk`` system account. It then checks that every order is resolved with a reply
and its clock outcome written, and that a second run is refused and writes nothing.

Direct use: ``.venv/bin/python bench/figures/incident_bulk.py [--quick]``.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import create_database, run_child, server_url  # noqa: E402

NAME = "incident_bulk"
DESCRIPTION = "Bulk reply + resolution of 5,000 linked orders: orders/s, every clock outcome written"
ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "kefu_bench_incident_bulk"


def _drop_database() -> None:
    """A fresh database every run: the audit table is append-only (a trigger refuses TRUNCATE)."""
    import psycopg

    with psycopg.connect(server_url().rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def run(quick: bool) -> list[tuple[str, float, str]]:
    _drop_database()
    return run_child(__file__, BENCH_DB, quick)


def child(quick: bool) -> list[tuple[str, float, str]]:
    create_database(BENCH_DB)
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from kefu.core.errors import Conflict
    from kefu.customers.models import Customer
    from kefu.incidents import bulk, services
    from kefu.incidents.models import Link
    from kefu.org.access import actor_for
    from kefu.org.models import Membership, Province, Role, Team, User
    from kefu.sla.models import Clock
    from kefu.tickets import services as tickets
    from kefu.tickets.models import Category, CustomerReply, Ticket

    n = 500 if quick else 5_000
    slugs = ["js", "sh", "zj", "ah", "gd"]
    now = timezone.now() - timedelta(hours=3)
    lead, _ = User.objects.get_or_create(username="bbench_lead")
    Membership.objects.get_or_create(user=lead, team=Team.objects.get(code="hotline"), role=Role.SUPERVISOR)
    manager = actor_for(lead)
    agents, customers = {}, {}
    for slug in slugs:
        p = Province.objects.get(slug=slug)
        user, _ = User.objects.get_or_create(username=f"bbench_{slug}")
        Membership.objects.get_or_create(
            user=user, team=Team.objects.get(code=f"desk_{slug}"), role=Role.AGENT
        )
        agents[slug] = actor_for(user)
        customers[slug] = [
            Customer.objects.create(name=f"批量压测{slug}{i}", account_number=f"BB-{slug}-{i}", province=p)
            for i in range(20)
        ]
    inc = services.incident_declare(
        actor=manager,
        title="批量压测事件",
        services="入会",
        symptoms="入会失败",
        impact="P1",
        started_at=now - timedelta(minutes=10),
        detected_at=now - timedelta(minutes=5),
        province_slugs=slugs,
        now=now,
    )
    cat = Category.objects.get(code="cf_incident")
    started = time.perf_counter()
    links = []
    for i in range(n):
        slug = slugs[i % len(slugs)]
        t = tickets.ticket_create(
            actor=agents[slug],
            kind="complaint",
            customer=customers[slug][i % 20],
            category=cat,
            subject="会议无法入会",
            now=now + timedelta(seconds=i),
        ).ticket
        links.append(
            Link(
                incident=inc,
                ticket=t,
                province_id=t.province_id,
                ticket_created_at=t.created_at,
                linked_at=now + timedelta(seconds=i),
                linked_by=lead,
            )
        )
    Link.objects.bulk_create(links, batch_size=1000)
    setup_s = time.perf_counter() - started
    services.incident_set_status(
        actor=manager,
        incident=inc,
        status="resolved",
        resolution_text="平台已恢复，请重新入会。",
        now=now + timedelta(hours=2),
    )
    from django.db import connection

    executed = [0]

    def count(execute, sql, params, many, context):  # every statement, however many (no 9,000 cap)
        executed[0] += 1
        return execute(sql, params, many, context)

    started, cpu_started = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(count):
        rep = bulk.bulk_resolve(actor=manager, incident=inc, now=now + timedelta(hours=2, minutes=5))
    bulk_s, bulk_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    assert rep.done == n and not rep.failed, (rep.done, rep.failed[:3])
    ids = list(Ticket.objects.unscoped("bench").values_list("pk", flat=True))
    assert Ticket.objects.unscoped("bench").filter(status="resolved").count() == n
    assert CustomerReply.objects.unscoped("bench").count() == n
    decided = (
        Clock.objects.unscoped("bench")
        .filter(owner_type="tickets.ticket", owner_id__in=ids, kind="resolve", status="stopped")
        .exclude(outcome="")
        .count()
    )
    assert decided == n, decided
    assert (
        Link.objects.unscoped("bench")
        .filter(incident=inc, bulk_outcome="done")
        .exclude(sla_outcome="")
        .count()
        == n
    )
    replies = CustomerReply.objects.unscoped("bench").count()
    try:
        bulk.bulk_resolve(actor=manager, incident=inc)
        raise AssertionError("a second run must be refused")
    except Conflict:
        pass
    assert CustomerReply.objects.unscoped("bench").count() == replies
    return [
        (f"setup: {n:,} orders created through the service and linked", round(setup_s, 1), "s"),
        (f"bulk reply + resolution of {n:,} linked orders", round(bulk_s, 1), "s"),
        ("bulk reply + resolution throughput", round(n / bulk_s, 1), "orders/s"),
        ("  queries per order (all of the run / orders)", round(executed[0] / n, 1), "queries"),
        (
            "  app-process CPU per order (load-independent; the database's own time not included)",
            round(bulk_cpu * 1000 / n, 1),
            "ms",
        ),
        ("orders with their resolve clock outcome written", decided, "orders"),
    ]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    quick = "--quick" in sys.argv
    if "--child" in sys.argv:
        print(json.dumps(child(quick)))
    else:
        for name, value, unit in run(quick):
            print(f"{name:70s} {value:>10} {unit}")
