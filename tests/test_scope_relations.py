"""Scoping follows relations (issue #15.9): a related manager is only as scoped as its parent.

The probe walks every relation from a province-owned model to one that is not (team, province,
category, user, policy, ...) and reads the reverse manager from the parent without a scope: it
must raise ``ScopeMissing``, and with a scope it must see only that scope's rows.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models

from kefu.core.scope import ScopeMissing, is_province_owned
from kefu.org.models import Province, Team
from kefu.tickets.models import Hop
from kefu.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def reverse_accessors() -> list[tuple[type[models.Model], str, type[models.Model]]]:
    """(parent model, accessor name, child model) for every relation into a province-owned model
    from a parent that is not province-owned."""
    found = []
    for child in apps.get_models():
        if not is_province_owned(child):
            continue
        for field in child._meta.get_fields():
            if not (field.is_relation and (field.many_to_one or field.many_to_many)) or field.auto_created:
                continue
            parent = field.related_model
            if parent is None or is_province_owned(parent):
                continue
            accessor = field.remote_field.get_accessor_name()  # type: ignore[union-attr]
            if (
                accessor is None
                or accessor.endswith("+")
                or (field.remote_field.related_name or "").endswith("+")
            ):
                continue
            found.append((parent, accessor, child))
    return found


ACCESSORS = reverse_accessors()
NAMED_IN_THE_ISSUE = {
    ("Team", "held_tickets"),
    ("Province", "tickets"),
    ("Category", "tickets"),
    ("User", "managed_customers"),
    ("Policy", "clocks"),
}


def test_the_probe_covers_the_relations_the_hostile_run_named():
    names = {(parent.__name__, accessor) for parent, accessor, _ in ACCESSORS}
    assert names >= NAMED_IN_THE_ISSUE, NAMED_IN_THE_ISSUE - names


@pytest.mark.parametrize(
    ("parent", "accessor", "child"), ACCESSORS, ids=[f"{p.__name__}.{a}" for p, a, _ in ACCESSORS]
)
def test_a_related_manager_of_an_unscoped_parent_needs_a_scope(parent, accessor, child):
    instance = parent._base_manager.first()
    if instance is None:
        instance = parent._base_manager.model()  # unsaved: Django refuses the read itself
        with pytest.raises((ScopeMissing, ValueError)):
            list(getattr(instance, accessor).all())
        return
    manager = getattr(instance, accessor)
    with pytest.raises(ScopeMissing):
        list(manager.all())
    with pytest.raises(ScopeMissing):
        manager.count()
    with pytest.raises(ScopeMissing):
        manager.filter(pk__gt=0).exists()


def test_a_scoped_read_through_an_unscoped_parent_sees_only_the_scope(agent_bj, agent_sh):
    ticket_bj = make_ticket(agent_bj)
    ticket_sh = make_ticket(agent_sh)
    category = ticket_bj.category
    assert category is not None and ticket_sh.category_id == category.pk
    seen_by_bj = set(category.tickets.scoped(agent_bj.scope).values_list("pk", flat=True))
    assert seen_by_bj == {ticket_bj.pk}
    hq = Province.objects.get(slug="sh")
    assert set(hq.tickets.scoped(agent_bj.scope).values_list("pk", flat=True)) == set()
    desk_sh = Team.objects.get(code="desk_sh")
    assert set(desk_sh.held_tickets.scoped(agent_sh.scope).values_list("pk", flat=True)) == {ticket_sh.pk}


def test_a_related_manager_of_a_province_owned_parent_stays_scoped_by_it(agent_bj):
    ticket = make_ticket(agent_bj)
    # The order was fetched through a scope; its hops and clocks follow without saying it again.
    hops = Hop.objects.unscoped("test: the count to compare with").filter(ticket=ticket).count()
    assert ticket.hops.count() == hops
    assert list(ticket.customer.contacts.all())
