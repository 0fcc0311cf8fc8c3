from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kefu.reports import months, rollup
from kefu.reports.models import MonthlyCount
from kefu.tickets.tests.factories import category, make_ticket

from .. import services
from .conftest import declare

pytestmark = pytest.mark.django_db


def _by_category(month) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in MonthlyCount.objects.unscoped("test").filter(month=month).select_related("category"):
        key = row.category.code if row.category else "-"
        out[key] = out.get(key, 0) + row.count
    return out


def test_linked_orders_count_under_incident_in_the_monthly_report(hotline_lead, agent_js):
    now = timezone.now()
    inc = declare(hotline_lead, slugs=("js",), now=now)
    a = make_ticket(agent_js, now=now)
    make_ticket(agent_js, now=now)
    month = months.month_of(now)
    rollup.run(now=now + timedelta(seconds=1))
    assert _by_category(month) == {"cf_usage_login": 2}
    services.link_create(actor=agent_js, incident=inc, ticket=a, now=now + timedelta(minutes=1))
    rollup.run(now=now + timedelta(minutes=2))  # the link alone marks the cell as changed
    assert _by_category(month) == {"cf_usage_login": 1, "cf_incident": 1}
    assert a.category == category("cf_usage_login")  # the order keeps its own category
