"""Isolation table for the SLA app (format: tests/isolation_spec.py).

Every SLA route is a list or a national configuration page: a Beijing desk
supervisor never sees a Shanghai clock, notice or rate row; the owner does.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from django.utils import timezone

from kefu.org.models import Team
from kefu.sla.models import Clock, Notice, Policy
from tests.isolation_spec import ListRoute, NoObject

_n = itertools.count(1)


def _clock(ctx: Any, *, overdue: bool, at_risk: bool = False) -> Clock:
    """A Shanghai complaint resolve clock; overdue (with a breach notice) or started a minute ago."""
    n = next(_n)
    now = timezone.now()
    team = Team.objects.get(code="desk_sh")
    started = now - (
        timedelta(days=3) if overdue else timedelta(hours=40) if at_risk else timedelta(minutes=1)
    )
    clock = Clock.objects.create(
        owner_type=f"isosh{n}",
        owner_id=n,
        kind="resolve",
        ticket_kind="complaint",
        team=team,
        province=ctx.province,
        policy=Policy.objects.get(code="complaint-desk-resolve"),
        service_hours=False,
        calendar_id=Policy.objects.get(code="complaint-desk-resolve").calendar_id,
        budget_seconds=48 * 3600,
        started_at=started,
        due_at=started + timedelta(hours=48),
        breached_at=started + timedelta(hours=48) if overdue else None,
        warned_at=started + timedelta(hours=36) if at_risk or overdue else None,
    )
    if overdue:
        Notice.objects.create(
            clock=clock,
            kind="breach",
            team=team,
            province=ctx.province,
            owner_type=clock.owner_type,
            owner_id=clock.owner_id,
            clock_kind="resolve",
            due_at=clock.due_at,
            created_at=now,
        )
    return clock


def overdue_marker(ctx: Any) -> str:
    return _clock(ctx, overdue=True).owner_type


def at_risk_marker(ctx: Any) -> str:
    return _clock(ctx, overdue=False, at_risk=True).owner_type


def rate_marker(ctx: Any) -> str:
    _clock(ctx, overdue=False)
    clock = _clock(ctx, overdue=True)
    return clock.team.name


ROUTES = {
    "sla/": ListRoute(make=overdue_marker),
    "sla/rates/": ListRoute(make=rate_marker),
    "sla/policies/": NoObject("national policies and calendars, the same for everyone"),
    "api:GET /api/sla/rates": ListRoute(make=rate_marker),
    "api:GET /api/sla/overdue": ListRoute(make=overdue_marker),
    "api:GET /api/sla/at-risk": ListRoute(make=at_risk_marker),
    "api:GET /api/sla/notices": ListRoute(make=overdue_marker),
    "api:GET /api/sla/policies": NoObject("national policies, the same for everyone"),
    "api:GET /api/sla/calendars": NoObject("national calendars and holidays, the same for everyone"),
}
