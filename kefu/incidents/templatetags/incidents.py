"""``{% incident_banner %}`` for the workbench and the order form, ``{% incident_notice %}`` for the public FAQ.

The tickets and knowledge templates include these; they read through the
incident selectors with the signed-in actor's scope (nothing for a visitor
but the public customer script).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from .. import selectors

register = template.Library()


@register.inclusion_tag("incidents/_banner.html", takes_context=True)
def incident_banner(context: Any, ticket: Any = None) -> dict[str, Any]:
    request = context.get("request")
    actor = getattr(request, "actor", None)
    out: dict[str, Any] = {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "banners": [],
        "ticket": ticket,
        "ticket_suggestions": [],
        "ticket_link": None,
    }
    if actor is None or not getattr(request.user, "is_authenticated", False):
        return out
    out["banners"] = selectors.banners(actor)
    groups = [f"team.{s.team_id}" for s in actor.seats] if actor.can("incident.view") else []
    out["live_groups"] = groups
    out["live_config"] = {"groups": groups, "public": False, "labels": _labels()}
    if ticket is not None and getattr(ticket, "pk", None):
        out["ticket_link"] = selectors.link_of(ticket)
        if out["ticket_link"] is None and actor.can("incident.link") and ticket.is_open:
            out["ticket_suggestions"] = selectors.suggestions_for(ticket)
    return out


@register.inclusion_tag("incidents/_faq_notice.html", takes_context=True)
def incident_notice(context: Any) -> dict[str, Any]:
    return {
        "notices": selectors.public_notices(),
        "request": context.get("request"),
        "live_config": {"groups": ["public.faq"], "public": True, "labels": _labels()},
    }


def _labels() -> dict[str, str]:
    return {
        "title": str(_("平台突发事件")),
        "script": str(_("客户口径")) + "：",
        "guidance": str(_("坐席处理指引")) + "：",
        "open": str(_("查看事件")),
    }
