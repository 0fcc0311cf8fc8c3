"""Isolation table for reports (format: tests/isolation_spec.py).

The attacker is a Beijing desk supervisor (holds ``reports.view`` for Beijing).
Markers are built so that only a reader whose scope covers Shanghai can see
them: a retired level-3 category appears in the monthly table, the dashboard
and the CSV only for readers with orders in it, and a late Shanghai complaint
clock appears in the service-level list only for readers who see Shanghai.
A province in the path outside the reader's scope is the 404 of an unknown one.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from tests.isolation_spec import ListRoute, NoObject, ObjectRoute, Target

_n = itertools.count(1)


def category_marker(ctx: Any) -> str:
    """A Shanghai complaint of last month filed under a retired category only it uses."""
    from kefu.reports import months, rollup
    from kefu.reports.tests.factories import ticket
    from kefu.tickets.models import Category

    name = f"隔离标记分类{next(_n):03d}"
    cat = Category.objects.create(
        code=f"cf_usage_iso{next(_n)}",
        name=name,
        level=3,
        sort_order=99,
        parent=Category.objects.get(code="cf_usage"),
        valid_from=date(2015, 1, 1),
        valid_to=date(2015, 1, 2),
    )
    start, _end = months.bounds(months.previous_month(ctx.now))
    ticket(slug=ctx.province.slug, at=start + timedelta(days=3), cat=cat.code)
    rollup.run(now=ctx.now)
    return name


def late_clock_marker(ctx: Any) -> str:
    """A Shanghai complaint resolve clock that ran late last month; listed by its owner reference."""
    from kefu.org.models import Team
    from kefu.reports import months
    from kefu.sla import services as sla

    owner_id = 900_000 + next(_n)
    start, _end = months.bounds(months.previous_month(ctx.now))
    team = Team.objects.get(code=f"desk_{ctx.province.slug}")
    sla.clock_start(
        owner_type="iso.report",
        owner_id=owner_id,
        kind="resolve",
        ticket_kind="complaint",
        team=team,
        province=ctx.province,
        now=start + timedelta(days=1),
    )
    sla.clock_stop(owner_type="iso.report", owner_id=owner_id, kind="resolve", now=start + timedelta(days=10))
    return f"iso.report#{owner_id}"


def province_path(ctx: Any) -> Target:
    return Target(path={"province": ctx.province.slug}, missing_path={"province": "zz"})


_CHART = NoObject("an SVG of the reader's own scope; the province filter is checked in test_views")
_MAIL = NoObject("HQ administrators' outbox (reports.mail, national): a province user gets 403; test_mail")

ROUTES = {
    "reports/": ListRoute(make=category_marker),
    "reports/charts/<slug:name>.svg": _CHART,
    "reports/monthly/": ListRoute(make=category_marker),
    "reports/monthly/export.xlsx": NoObject(
        "binary workbook of the reader's scope; its cells are read in test_export"
    ),
    "reports/monthly/export.csv": ListRoute(make=category_marker),
    "reports/monthly/<slug:province>/": ObjectRoute(make=province_path),
    "reports/monthly/<slug:province>/export.xlsx": ObjectRoute(make=province_path),
    "reports/monthly/<slug:province>/export.csv": ObjectRoute(make=province_path),
    "reports/service-level/": ListRoute(make=late_clock_marker),
    "reports/mail/": _MAIL,
    "reports/mail/retry/": _MAIL,
    "api:GET /api/reports/monthly": ListRoute(make=category_marker),
    "api:GET /api/reports/monthly/{province}": ObjectRoute(make=province_path),
    "api:GET /api/reports/dashboard": ListRoute(make=category_marker),
    "api:GET /api/reports/service-level": ListRoute(make=late_clock_marker),
    "api:GET /api/reports/outbox": _MAIL,
}
