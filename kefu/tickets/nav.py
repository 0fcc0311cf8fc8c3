from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kefu.core.registry import HomePanel, NavItem, register_home_panel, register_nav
from kefu.core.web import actor_of

register_nav(NavItem(_("工单工作台"), "tickets:workbench", "ticket.view", order=10))
register_nav(NavItem(_("登记工单"), "tickets:create", "ticket.create", order=11))


def _home_panel(request: HttpRequest) -> dict[str, Any] | None:
    from .selectors import queue_counts, submitted_complaints

    actor = actor_of(request)
    if not actor.team_ids_with("ticket.work"):
        return None
    counts = queue_counts(actor)
    return {"counts": counts, "submitted": submitted_complaints(actor) if counts.get("submitted") else []}


register_home_panel(HomePanel("tickets/_home_panel.html", "ticket.view", _home_panel, order=10))


def _my_customers(request: HttpRequest) -> dict[str, Any] | None:
    """An account manager lands on their own customers, each with its open orders (README)."""
    from django.db.models import Count, Q

    from kefu.customers.selectors import customers_in_scope

    from .models import OPEN_STATUS_VALUES

    actor = actor_of(request)
    if not any(s.team_kind == "account_managers" for s in actor.seats):
        return None
    qs = (
        customers_in_scope(actor.scope)
        .filter(account_manager=actor.user, is_active=True)
        .annotate(open_orders=Count("tickets", filter=Q(tickets__status__in=OPEN_STATUS_VALUES)))
        .order_by("-open_orders", "name")
    )
    return {"customers": list(qs[:30]), "total": qs.count()}


register_home_panel(HomePanel("tickets/_home_my_customers.html", "ticket.view", _my_customers, order=5))
