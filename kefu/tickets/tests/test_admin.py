"""The admin cannot write a status around the workflow; its bulk action goes through the services."""

from __future__ import annotations

import pytest
from django.test import Client

from kefu.tickets import services

from .factories import fresh, make_ticket

pytestmark = pytest.mark.django_db


def test_bulk_close_refuses_illegal_transitions_and_changes_nothing(admin_actor, agent_bj):
    open_one = make_ticket(agent_bj, subject="未办结")
    done = make_ticket(agent_bj, subject="已办结")
    services.ticket_resolve(actor=agent_bj, ticket=done, resolution="x", reply_content="已答复")
    client = Client()
    client.force_login(admin_actor.user)
    response = client.post(
        "/admin/tickets/ticket/",
        {"action": "close_resolved", "_selected_action": [open_one.pk, done.pk]},
        follow=True,
    )
    assert response.status_code == 200
    body = response.content.decode()
    # the administrator works no orders: both refused by the services, each named, neither changed
    assert f"{open_one.number}: " in body and f"{done.number}: " in body
    assert (fresh(open_one).status, fresh(done).status) == ("open", "resolved")


def test_ticket_change_page_is_read_only(admin_actor, agent_bj):
    t = make_ticket(agent_bj)
    client = Client()
    client.force_login(admin_actor.user)
    page = client.get(f"/admin/tickets/ticket/{t.pk}/change/")
    assert page.status_code == 200 and 'name="status"' not in page.content.decode()
    client.post(f"/admin/tickets/ticket/{t.pk}/change/", {"status": "closed"})
    assert fresh(t).status == "open"


def test_category_admin_lists_the_taxonomy(admin_actor):
    client = Client()
    client.force_login(admin_actor.user)
    page = client.get("/admin/tickets/category/").content.decode()
    assert "投诉/故障 / 开通类 / 业务开户不成功" in page
