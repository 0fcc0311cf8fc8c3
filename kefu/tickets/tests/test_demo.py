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


@pytest.mark.parametrize("local_time", ["00:07", "06:30", "08:05", "12:00", "18:59", "23:55"])
def test_demo_writes_nothing_after_its_now_whatever_the_time_of_day(local_time):
    """Issue #14 item 8: hops auto-accepted 'at 16:59' when loaded at 15:21 made the monthly report undercount."""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from kefu.core.models import AuditEvent
    from kefu.sla import demo_sweep
    from kefu.sla.models import Clock

    sh = ZoneInfo("Asia/Shanghai")
    now = datetime.combine(datetime(2026, 12, 2).date(), time.fromisoformat(local_time), tzinfo=sh)
    ctx = DemoContext(now=now, rng=random.Random(11), out=io.StringIO())
    org_demo.load(ctx)
    ctx.shared["customers"] = {"bj": [customer_in("bj") for _ in range(3)]}
    demo.load(ctx)
    demo_sweep.load(ctx)
    tickets = Ticket.objects.unscoped("test")
    assert tickets.exists()
    future = [
        *(
            ("ticket", f, v)
            for f in ("created_at", "updated_at", "resolved_at", "closed_at")
            for v in tickets.filter(**{f"{f}__gt": now}).values_list(f, flat=True)
        ),
        *(
            ("hop", f, v)
            for f in ("created_at", "accepted_at", "returned_at", "closed_at")
            for v in Hop.objects.unscoped("test").filter(**{f"{f}__gt": now}).values_list(f, flat=True)
        ),
        *(
            ("clock", f, v)
            for f in ("started_at", "stopped_at", "breached_at", "warned_at")
            for v in Clock.objects.unscoped("test").filter(**{f"{f}__gt": now}).values_list(f, flat=True)
        ),
    ]
    # (Audit events carry the wall-clock time they were recorded, set by kefu.core, not the demo's ``now``.)
    assert (
        AuditEvent.objects.filter(verb="ticket.hop_auto_accepted").count()
        == Hop.objects.unscoped("test").filter(status="auto_accepted").count()
    )
    assert future == []
    # Every auto-accepted hop counts as accepted at its accept deadline, which has passed.
    for hop in Hop.objects.unscoped("test").filter(status="auto_accepted"):
        clock = Clock.objects.unscoped("test").get(owner_type="tickets.hop", owner_id=hop.pk, kind="accept")
        assert hop.accepted_at == clock.due_at <= now
