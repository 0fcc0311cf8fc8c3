"""The demo creates orders in every state through the services, and is idempotent."""

from __future__ import annotations

import io
import random

import pytest
from django.utils import timezone

from kefu.demo.loader import DemoContext
from kefu.org import demo as org_demo
from kefu.tickets import demo
from kefu.tickets.models import Hop, Status, Ticket

from .factories import customer_in

pytestmark = pytest.mark.django_db


def test_demo_covers_every_status_and_is_idempotent():
    ctx = DemoContext(now=timezone.now(), rng=random.Random(7), out=io.StringIO())
    org_demo.load(ctx)
    ctx.shared["customers"] = {"bj": [customer_in("bj") for _ in range(3)]}
    demo.load(ctx)
    tickets = Ticket.objects.unscoped("test")
    assert set(tickets.values_list("status", flat=True)) == set(Status.values)
    assert set(tickets.values_list("kind", flat=True)) == {"consultation", "acceptance", "complaint", "fault"}
    assert {"account_manager", "province_desk", "hotline"} <= set(tickets.values_list("channel", flat=True))
    hops = set(Hop.objects.unscoped("test").values_list("status", flat=True))
    assert {"pending", "accepted", "auto_accepted", "returned", "closed"} <= hops
    assert tickets.filter(off_rule_transfers__gt=0).exists()
    count = tickets.count()
    demo.load(ctx)
    assert tickets.count() == count
