"""Report pages cost the same number of queries whatever the number of orders, late clocks and mails."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import login_client
from kefu.org.models import Team, Unit
from kefu.reports import rollup, services
from kefu.reports.models import Recipient
from kefu.sla import services as sla

from .factories import ticket

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
URLS = [
    "/reports/?month_from=2026-09&month_to=2026-10",
    "/reports/monthly/?month=2026-10",
    "/reports/monthly/js/?month=2026-10",
    "/reports/service-level/?month=2026-10",
    "/reports/charts/top.svg?month_from=2026-09&month_to=2026-10",
    "/api/reports/service-level?month=2026-10",
    "/api/reports/monthly?month=2026-10",
    "/",
]
_ids = itertools.count(1)
SLUGS = ["js", "bj", "gd", "sh", "zj"]
CATS = ["cf_usage_login", "cf_usage_bill", "cf_incident", "cf_activation_account"]


def _more(n: int) -> None:
    start = datetime(2026, 10, 5, 9, tzinfo=SH)
    for i in range(n):
        slug = SLUGS[i % len(SLUGS)]
        ticket(slug=slug, at=start + timedelta(hours=i), cat=CATS[i % len(CATS)])
        team = Team.objects.get(code=f"desk_{slug}")
        owner = next(_ids)
        sla.clock_start(
            owner_type="test.order",
            owner_id=owner,
            kind="resolve",
            ticket_kind="complaint",
            team=team,
            province=team.province,
            now=start,
        )
        sla.clock_stop(owner_type="test.order", owner_id=owner, kind="resolve", now=start + timedelta(days=9))
        Recipient.objects.get_or_create(
            unit=Unit.objects.get(code=f"branch_{slug}"),
            email=f"{slug}{i}@example.cn",
            defaults={"name": slug},
        )
    services.mail_enqueue(actor=None, month=date(2026, 10, 1), now=timezone.now())
    rollup.run(now=timezone.now())


def _counts(client: Client, urls: list[str]) -> dict[str, int]:
    out = {}
    for url in urls:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200, url
        out[url] = len(ctx.captured_queries)
    return out


def test_report_pages_do_not_query_per_row(hq_analyst, admin_actor):
    analyst, admin = login_client(Client(), hq_analyst), login_client(Client(), admin_actor)
    _more(3)
    few = _counts(analyst, URLS) | {"mail": _counts(admin, ["/reports/mail/", "/api/reports/outbox"])}
    _more(12)
    many = _counts(analyst, URLS) | {"mail": _counts(admin, ["/reports/mail/", "/api/reports/outbox"])}
    assert many == few
