"""Edits racing with real threads and real transactions (PostgreSQL): one wins, the rest get 409, no 500."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from conftest import make_user
from kefu.core.errors import DomainError
from kefu.core.models import AuditEvent
from kefu.customers import services
from kefu.customers.models import Contact, ContactPhone, Customer
from kefu.customers.tests.factories import ContactFactory, CustomerFactory
from kefu.org.access import actor_for
from kefu.org.models import Role

THREADS = 20
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so threads cannot race the row lock here")


def race(fn) -> list[str]:
    start = threading.Barrier(THREADS)

    def attempt(i: int) -> str:
        try:
            start.wait()
            fn(i)
        except DomainError as exc:
            return exc.code
        finally:
            connections.close_all()
        return "ok"

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(attempt, range(THREADS)))


def test_same_version_edits_one_wins():
    actor = actor_for(make_user("lead_bj_c", "desk_bj", Role.SUPERVISOR))
    customer = CustomerFactory(name="原名")
    codes = race(
        lambda i: services.customer_update(
            actor=actor, customer_id=customer.pk, version=1, changes={"name": f"改名{i}"}
        )
    )
    assert codes.count("ok") == 1 and codes.count("stale_version") == THREADS - 1, codes
    assert Customer.objects.unscoped("test").get().version == 2
    assert AuditEvent.objects.filter(verb="customer.updated").count() == 1


def test_same_number_added_at_once_is_stored_once():
    actor = actor_for(make_user("lead_bj_c", "desk_bj", Role.SUPERVISOR))
    contact = ContactFactory(phones=[])
    codes = race(lambda i: services.phone_add(actor=actor, contact_id=contact.pk, number="+86 138 0013 8000"))
    assert codes.count("ok") == 1 and codes.count("phone_exists") == THREADS - 1, codes
    assert ContactPhone.objects.unscoped("test").filter(contact=contact).count() == 1
    assert AuditEvent.objects.filter(verb="customer.phone_added").count() == 1


def test_primary_contacts_added_at_once_leave_one_primary():
    actor = actor_for(make_user("lead_bj_c", "desk_bj", Role.SUPERVISOR))
    customer = CustomerFactory()
    codes = race(
        lambda i: services.contact_add(
            actor=actor, customer_id=customer.pk, name=f"联系人{i}", is_primary=True
        )
    )
    assert codes == ["ok"] * THREADS
    assert Contact.objects.unscoped("test").filter(customer=customer, is_primary=True).count() == 1
