"""Template helpers for pages of other apps that show work orders (customers' lookup and detail)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

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


_CLOCK_STATES = {
    "overdue": _("已超时"),
    "at_risk": _("即将超时"),
    "running": _("计时中"),
    "paused": _("已暂停"),
    "met": _("按时"),
    "late": _("超时"),
    "handed_over": _("已移交"),
    "stopped": _("已停止"),
}


@register.filter
def clock_state(state: str) -> str:
    return str(_CLOCK_STATES.get(state, state))
