"""200 hotline agents accept the same hop at once: one wins, the rest get 409, one event, no 500.

PostgreSQL only (SQLite serialises writers, so there is no race to test). The
server allows 100 connections shared with other test runs, so at most 40 of the
200 requests hold a connection at the same moment; all 200 start together.
"""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from kefu.core.models import AuditEvent
from kefu.org.models import Membership, Team, User
from kefu.tickets import services
from kefu.tickets.models import Hop

from .factories import make_ticket

AGENTS = 200
AT_ONCE = 40


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_hundred_agents_accept_one_hop(agent_bj):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises write transactions: the accept race needs PostgreSQL")
    t = make_ticket(agent_bj)
    services.ticket_dispatch(
        actor=agent_bj, ticket=t, to_team=Team.objects.get(code="hotline"), reason_code="complaint_assist"
    )
    hotline = Team.objects.get(code="hotline")
    clients = []
    for i in range(AGENTS):
        user = User.objects.create_user(username=f"race_{i}", password="x-long-password-1")
        Membership.objects.create(user=user, team=hotline, role="agent")
        client = Client()
        client.force_login(user)
        clients.append(client)

    barrier = threading.Barrier(AGENTS)
    gate = threading.BoundedSemaphore(AT_ONCE)
    codes: list[int] = []
    lock = threading.Lock()

    def run(client: Client) -> None:
        barrier.wait()
        with gate:
            try:
                response = client.post(
                    f"/api/tickets/{t.number}/accept", "{}", content_type="application/json"
                )
                code = response.status_code
                body = json.loads(response.content)
            finally:
                connection.close()
        with lock:
            codes.append(code if code != 409 or body["code"] == "illegal_transition" else -1)

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for th in threads:
        th.start()
    for th in threads:
        th.join()

    assert sorted(codes) == [200] + [409] * (AGENTS - 1)
    hop = Hop.objects.unscoped("test").get(ticket=t)
    assert hop.status == "accepted" and hop.accepted_by.username.startswith("race_")
    assert (
        AuditEvent.objects.filter(
            target_type="tickets.ticket", target_id=str(t.pk), verb="ticket.hop_accepted"
        ).count()
        == 1
    )
