"""Navigation and the hotline lead's home panel: today's 20-second answer rate, live, and alerts."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.registry import (
    HomePanel,
    NavItem,
    RecentContact,
    register_home_panel,
    register_nav,
    register_recent_contacts,
)
from kefu.core.web import actor_of
from kefu.org.models import Role

from . import rates, selectors, services
from .models import Line

LEAD_ROLES = frozenset({Role.SUPERVISOR, Role.ANALYST})


def rate_panel(request: HttpRequest) -> dict[str, Any] | None:
    """Supervisors and analysts: per line of their scope (the hotline for national seats) today's rate."""
    actor = actor_of(request)
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


def recent_calls(actor: Any, customer: Any, limit: int) -> list[RecentContact]:
    """The customer's calls the actor's scope covers, newest first."""
    if not actor.can("calls.view"):
        return []
    calls = selectors.calls_in_scope(actor.scope).filter(customer=customer).order_by("-started_at")[:limit]
    return [
        RecentContact(
            kind="call",
            label=_("来电"),
            at=c.started_at or c.created_at,
            title=f"{c.get_outcome_display()} · {c.line.name}",
            url=reverse("calls:detail", args=[c.pk]),
            ref=c.pk,
        )
        for c in calls
    ]


def recent_orders(actor: Any, customer: Any, limit: int) -> list[RecentContact]:
    """The customer's work orders the actor may see (tickets sits below calls, so calls may read them)."""
    from kefu.tickets import selectors as ticket_selectors

    if not actor.can("ticket.view"):
        return []
    return [
        RecentContact(
            kind="order",
            label=_("工单"),
            at=t.created_at,
            title=f"{t.number} {t.subject}",
            url=reverse("tickets:detail", args=[t.number]),
            ref=t.pk,
        )
        for t in ticket_selectors.recent_orders_of(actor, customer, limit=limit)
    ]


register_recent_contacts("order", recent_orders)
register_recent_contacts("call", recent_calls)
