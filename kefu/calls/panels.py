"""Navigation and the hotline lead's home panel: today's 20-second answer rate, live, and alerts."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.registry import HomePanel, NavItem, register_home_panel, register_nav
from kefu.org.models import Role

from . import rates, selectors, services
from .models import Line

LEAD_ROLES = frozenset({Role.SUPERVISOR, Role.ANALYST})


def rate_panel(request: HttpRequest) -> dict[str, Any] | None:
    """Supervisors and analysts: per line of their scope (the hotline for national seats) today's rate."""
    actor = request.actor  # type: ignore[attr-defined]
    if not any(seat.role in LEAD_ROLES for seat in actor.seats):
        return None
    return live_context(actor)


def live_context(actor: Any) -> dict[str, Any]:
    now = timezone.now()
    lines = selectors.lines_in_scope(actor.scope)
    if actor.scope.national:
        lines = lines.filter(kind=Line.Kind.HOTLINE)
    day = selectors.today(now)
    rows = []
    for figure in selectors.rate_figures(
        actor.scope, start=day, end=day, lines=list(lines), with_slots=False
    ):
        hour = services.rolling_hour(figure.line, now)
        rows.append(
            {
                "line": figure.line,
                "today": figure.total,
                "hour": hour,
                "today_met": rates.meets_target(figure.total, figure.target),
                "hour_met": rates.meets_target(hour, figure.target),
            }
        )
    return {"rows": rows, "alerts": selectors.alerts_today(actor.scope, now)}


register_nav(NavItem(_("通话"), "calls:list", "calls.view", order=45))
register_nav(NavItem(_("来电弹屏"), "calls:desk", "calls.view", order=46))
register_home_panel(HomePanel("calls/_panel_rate.html", "calls.view", rate_panel, order=20))
