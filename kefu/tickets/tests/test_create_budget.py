"""Issue #16 item 5: a create through the API costs at most 8 queries, every rule still holding."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client

from kefu.core.models import AuditEvent
from kefu.sla.models import Clock
from kefu.tickets.models import IdempotencyKey, Ticket

from .factories import customer_in

BODY = {
    "kind": "complaint",
    "subject": "会议终端无法登录",
    "description": "客户来电",
    "category": "cf_usage_login",
}


def _token_client(actor):
    from kefu.org.models import Team
    from kefu.org.services import token_issue

    _row, secret = token_issue(actor=actor, team=Team.objects.get(code="desk_bj"), name="budget")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def _post(http, customer, key):
    return http.post(
        "/api/tickets",
        json.dumps({**BODY, "customer_id": customer.pk}),
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )


# A real transaction (not the test's wrapping one), as in production: the count is the server's.
@pytest.mark.django_db(transaction=True)
def test_create_through_a_token_costs_at_most_8_queries(agent_bj, django_assert_max_num_queries):
    # PostgreSQL: the token row; the customer; BEGIN; the order (its number taken from the sequence
    # inside the INSERT and handed back); its resolve clock; the key; one audit event that carries
    # the clock's start; COMMIT = 8. SQLite has no sequence: one statement more (the counter). The
    # token's seats come from a per-process copy, policies, calendar and taxonomy too; a new query
    # here costs every create.
    bj = customer_in("bj")
    http = _token_client(agent_bj)
    assert _post(http, bj, "warm-1").status_code == 201  # fills the per-process copies
    with django_assert_max_num_queries(8 if connection.vendor == "postgresql" else 9):
        response = _post(http, bj, "budget-1")
    assert response.status_code == 201
    t = Ticket.objects.unscoped("test").get(number=response.json()["number"])
    clock = Clock.objects.unscoped("test").get(owner_type="tickets.ticket", owner_id=t.pk, kind="resolve")
    # The rules still hold: the clock runs with the order's due date, the key names the order, one event.
    assert clock.status == "running" and clock.due_at == t.due_at is not None
    assert IdempotencyKey.objects.get(key="budget-1").ticket_id == t.pk
    events = AuditEvent.objects.filter(target_type="tickets.ticket", target_id=str(t.pk))
    assert [e.verb for e in events] == ["ticket.created"]
    assert events[0].data["clock"] == {
        "kind": "resolve",
        "policy": clock.policy.code,
        "due_at": clock.due_at.isoformat(),
    }
    assert not AuditEvent.objects.filter(target_type="sla.clock", target_id=str(clock.pk)).exists()
    # The retry answers with the same order and writes nothing.
    before = (Ticket.objects.unscoped("test").count(), AuditEvent.objects.count())
    again = _post(http, bj, "budget-1")
    assert (again.status_code, again.json()["number"]) == (200, t.number)
    assert (Ticket.objects.unscoped("test").count(), AuditEvent.objects.count()) == before


@pytest.mark.django_db
def test_a_token_cannot_create_outside_its_province_even_from_the_cached_seats(agent_bj):
    http = _token_client(agent_bj)
    assert _post(http, customer_in("bj"), "ok-1").status_code == 201
    sh = customer_in("sh")
    response = _post(http, sh, "sh-1")
    assert response.status_code == 404
    assert not Ticket.objects.unscoped("test").filter(customer=sh).exists()


@pytest.mark.django_db
def test_a_membership_ended_after_the_seats_were_cached_is_refused_at_once(agent_bj):
    from kefu.org.models import Membership

    http = _token_client(agent_bj)
    bj = customer_in("bj")
    assert _post(http, bj, "ok-1").status_code == 201
    Membership.objects.filter(user=agent_bj.user).update(is_active=False)  # no signal: the bulk path
    for m in Membership.objects.filter(user=agent_bj.user):
        m.save()  # a save (as the admin and the services do) clears the cached seats
    assert _post(http, bj, "after-1").status_code == 403
