"""The demo incident is past, resolved and reviewed, with linked orders and its figures; the command opens one."""

from __future__ import annotations

import io
import random

import pytest
from django.core.management import call_command
from django.utils import timezone

from kefu.demo.loader import DemoContext
from kefu.org import demo as org_demo
from kefu.org.access import actor_for
from kefu.org.models import User
from kefu.tickets.tests.factories import customer_in

from .. import demo, review, selectors
from ..models import Incident, Link

pytestmark = pytest.mark.django_db


def test_demo_incident_is_resolved_with_linked_orders_and_a_report():
    ctx = DemoContext(now=timezone.now(), rng=random.Random(7), out=io.StringIO())
    org_demo.load(ctx)
    for slug in demo.PROVINCES:
        for _ in range(4):
            customer_in(slug)
    from datetime import timedelta

    from kefu.calls.tests.factories import make_call
    from kefu.chat.models import Conversation
    from kefu.org.models import Province, Team

    t0 = timezone.localtime(ctx.now - timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    in_window = make_call(Province.objects.get(slug="js"), at=t0 + timedelta(minutes=30))
    make_call(Province.objects.get(slug="gd"), at=t0 + timedelta(minutes=30))  # not affected
    chat = Conversation.objects.create(
        team=Team.objects.get(code="online"),
        status="closed",
        visitor_name="访客",
        created_at=t0 + timedelta(minutes=40),
    )
    demo.load(ctx)
    inc = Incident.objects.get()
    from ..models import ContactLink

    linked = set(ContactLink.objects.unscoped("test").values_list("kind", "call_id", "conversation_id"))
    assert linked == {("call", in_window.pk, None), ("chat", None, chat.pk)}
    assert (
        inc.status == "reviewed"
        and not selectors.open_incidents(actor_for(User.objects.get(username="hq_reviewer")).scope).exists()
    )
    links = Link.objects.unscoped("test").filter(incident=inc)
    assert links.count() == 16
    assert set(links.values_list("bulk_outcome", flat=True)) == {"done", "already"}
    hq = actor_for(User.objects.get(username="hq_reviewer"))
    rep = review.build(inc, hq.scope)
    assert rep.to_notify_min == 0.0 and rep.to_relay_min == 11.0 and rep.total == 16
    assert any(a["acknowledged_at"] is None and a["reminders"] == 1 for a in rep.acks)  # Zhejiang never did
    assert inc.urgent_article_id is not None
    demo.load(ctx)
    assert Incident.objects.count() == 1
    out = io.StringIO()
    call_command("incident_demo_declare", stdout=out)
    opened = Incident.objects.exclude(pk=inc.pk).get()
    assert (
        opened.is_open
        and opened.bulletins.filter(is_current=True).exists()
        and opened.number in out.getvalue()
    )
