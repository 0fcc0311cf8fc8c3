from __future__ import annotations

import random

import pytest
from django.utils import timezone

from kefu.demo.loader import DemoContext
from kefu.org import demo as org_demo
from kefu.quality import demo
from kefu.quality.models import Inspection

pytestmark = pytest.mark.django_db


def test_demo_loads_inspections_in_several_states_and_is_idempotent():
    ctx = DemoContext(now=timezone.now(), rng=random.Random(1))
    org_demo.load(ctx)
    from kefu.customers import demo as customers_demo
    from kefu.tickets import demo as tickets_demo

    customers_demo.load(ctx)
    tickets_demo.load(ctx)
    demo.load(ctx)
    rows = list(Inspection.objects.unscoped("test"))
    assert rows and len({r.status for r in rows}) >= 2
    demo.load(ctx)
    assert Inspection.objects.unscoped("test").count() == len(rows)
