"""Issue #16.5: the create path's SQL built once (``services.create_sql``) writes and reads what the ORM would."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kefu.core.errors import Conflict, NotFound
from kefu.core.models import AuditEvent
from kefu.core.scope import Scope
from kefu.customers.selectors import customer_in_scope as orm_customer_in_scope
from kefu.org.models import Province, Team
from kefu.sla import services as sla
from kefu.sla.models import Clock
from kefu.tickets import services
from kefu.tickets.models import IdempotencyKey, Ticket
from kefu.tickets.services import create_sql

from .factories import category, customer_in

NOW = datetime(2026, 12, 2, 2, 15, 30, 123456, tzinfo=UTC)  # a Wednesday, 10:15:30.123456 in Beijing


def _create(actor, customer, key="key-1", fingerprint="f" * 64):
    return services.ticket_create(
        actor=actor,
        kind="complaint",
        customer=customer,
        subject="会议终端无法登录",
        description="客户来电：\n'引号' \"双引号\" \\ 反斜杠 %s",
        category=category("cf_usage_login"),
        caller_phone="13800138000",
        idempotency_key=key,
        fingerprint=fingerprint,
        now=NOW,
    )


def _counts():
    return (
        Ticket.objects.unscoped("test").count(),
        Clock.objects.unscoped("test").count(),
        IdempotencyKey.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.mark.django_db
def test_every_column_of_the_four_rows_reads_back_as_the_objects_the_service_built(agent_bj):
    bj = customer_in("bj")
    created = _create(agent_bj, bj)
    t, event = created.ticket, created.event
    assert created.created and event is not None
    # The order: every column as built (microseconds, quotes, backslash, a literal %s, the due date).
    row = Ticket.objects.unscoped("test").filter(pk=t.pk).values().get()
    assert row == {f.attname: getattr(t, f.attname) for f in Ticket._meta.concrete_fields}
    assert row["number"] == f"BJ261202{row['number'][-7:]}" and row["created_at"] == NOW
    # Its clock: the one clock_prepare computes for it, with the order's id.
    clock = Clock.objects.unscoped("test").get(owner_type="tickets.ticket", owner_id=t.pk)
    team = Team.objects.get(code="desk_bj")
    want = sla.clock_prepare(
        owner_type="tickets.ticket",
        kind="resolve",
        ticket_kind="complaint",
        team=team,
        province=bj.province,
        now=NOW,
    )
    assert want is not None
    skip = {"id", "owner_id", "updated_at"}  # auto_now: set when written, as save() sets it
    assert {
        f.attname: getattr(clock, f.attname) for f in Clock._meta.concrete_fields if f.attname not in skip
    } == {f.attname: getattr(want, f.attname) for f in Clock._meta.concrete_fields if f.attname not in skip}
    assert clock.due_at == t.due_at and clock.updated_at is not None
    # The key names the order; the event is the one handed back, its data holding the database's number.
    key = IdempotencyKey.objects.get(key="key-1")
    assert (key.user_id, key.request_hash, key.ticket_id, key.created_at) == (
        agent_bj.user.pk,
        "f" * 64,
        t.pk,
        NOW,
    )
    stored = AuditEvent.objects.filter(pk=event.pk).values().get()
    assert stored == {f.attname: getattr(event, f.attname) for f in AuditEvent._meta.concrete_fields}
    assert stored["target_type"] == "tickets.ticket" and stored["target_id"] == str(t.pk)
    assert stored["data"] == {
        "version": 1,
        "status": "open",
        "kind": "complaint",
        "channel": "province_desk",
        "number": t.number,
        "team": "desk_bj",
        "category": "cf_usage_login",
        "clock": {"kind": "resolve", "policy": clock.policy.code, "due_at": clock.due_at.isoformat()},
    }
    assert (stored["actor_id"], stored["province_code"], stored["unit_code"]) == (
        agent_bj.user.pk,
        bj.province.code,
        "branch_bj",
    )


@pytest.mark.django_db
def test_a_repeated_key_inside_a_callers_transaction_writes_nothing_and_leaves_it_usable(agent_bj):
    bj = customer_in("bj")
    with transaction.atomic():
        first = _create(agent_bj, bj, key="same")
        before = _counts()
        again = _create(agent_bj, bj, key="same")
        assert (again.created, again.ticket.pk) == (False, first.ticket.pk)
        with pytest.raises(Conflict):
            _create(agent_bj, bj, key="same", fingerprint="0" * 64)
        assert _counts() == before  # and the transaction still answers
    assert Ticket.objects.unscoped("test").filter(pk=first.ticket.pk).exists()


# A real transaction, as in production: on PostgreSQL the write is one statement, outside any BEGIN.
@pytest.mark.django_db(transaction=True)
def test_a_create_through_a_token_is_three_statements_on_postgresql(agent_bj):
    from kefu.org.services import token_issue

    _row, secret = token_issue(actor=agent_bj, team=Team.objects.get(code="desk_bj"), name="sql")
    http = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    bj = customer_in("bj")
    body = json.dumps(
        {"kind": "complaint", "customer_id": bj.pk, "subject": "无法入会", "category": "cf_usage_login"}
    )

    def post(key):
        return http.post(
            "/api/tickets", body, content_type="application/json", headers={"Idempotency-Key": key}
        )

    assert post("warm").status_code == 201
    with CaptureQueriesContext(connection) as captured:
        response = post("one")
    assert response.status_code == 201
    statements = [q["sql"].split()[0].upper() for q in captured.captured_queries]
    if connection.vendor == "postgresql":
        # The token; the customer with its province; the order, clock, key and event (WITH ... INSERT).
        assert statements == ["SELECT", "SELECT", "WITH"]
    else:  # SQLite: the counter and four INSERTs inside BEGIN ... COMMIT
        assert statements.count("INSERT") == 4 and "WITH" not in statements
    # A retry with another body: 409 and nothing written, outside any transaction too.
    before = _counts()
    conflict = http.post(
        "/api/tickets",
        body.replace('"subject": "', '"subject": "another '),
        content_type="application/json",
        headers={"Idempotency-Key": "one"},
    )
    assert conflict.status_code == 409
    assert _counts() == before
    assert post("one").json()["number"] == response.json()["number"]


@pytest.mark.django_db
def test_the_customer_read_answers_as_the_scoped_selector():
    bj, sh = customer_in("bj"), customer_in("sh")
    scope = Scope.provinces([Province.objects.get(slug="bj").pk])
    got = create_sql.customer_in_scope(scope, bj.pk)
    want = orm_customer_in_scope(scope, bj.pk)
    fields = [f.attname for f in type(want)._meta.concrete_fields]
    assert [getattr(got, f) for f in fields] == [getattr(want, f) for f in fields]
    assert got.province == want.province and got.province.slug == "bj"
    assert got.created_at == want.created_at and got.created_at.tzinfo is not None
    # Another province's customer, a missing one, and anything under an empty scope: the same 404.
    for scope_, pk in ((scope, sh.pk), (scope, sh.pk + 1000), (Scope.nothing(), bj.pk)):
        with pytest.raises(NotFound):
            create_sql.customer_in_scope(scope_, pk)
    assert create_sql.customer_in_scope(Scope.everything(), sh.pk).pk == sh.pk
