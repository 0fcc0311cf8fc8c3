"""Template helpers for pages of other apps that show work orders (customers' lookup and detail)."""

from __future__ import annotations

from typing import Any

from django import template

from kefu.tickets import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def open_orders_for(context: Any, customer: Any) -> list[Any]:
    """The customer's open orders the viewer may see (through the viewer's scope)."""
    actor = getattr(context.get("request"), "actor", None)
    if actor is None or not actor.can("ticket.view"):
        return []
    return selectors.open_orders_of(actor, customer)


@register.simple_tag(takes_context=True)
def recent_orders_for(context: Any, customer: Any) -> list[Any]:
    actor = getattr(context.get("request"), "actor", None)
    if actor is None or not actor.can("ticket.view"):
        return []
    return selectors.recent_orders_of(actor, customer)


@register.filter
def due_badge(ticket: Any, now: Any) -> str:
    if ticket.due_at is None or not ticket.is_open:
        return ""
    if ticket.due_at <= now:
        return "danger"
    return "warn" if (ticket.due_at - now).total_seconds() <= selectors.DUE_SOON.total_seconds() else ""
