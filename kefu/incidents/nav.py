from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kefu.core.registry import HomePanel, NavItem, register_home_panel, register_nav
from kefu.core.web import actor_of

register_nav(NavItem(_("平台突发事件"), "incidents:list", "incident.view", order=40))


def _home_panel(request: HttpRequest) -> dict[str, Any] | None:
    """HQ service's in-app alert: incidents whose report HQ has not yet acknowledged; everyone: open ones."""
    from . import selectors

    actor = actor_of(request)
    open_ones = list(selectors.open_incidents(actor.scope).order_by("-declared_at")[:5])
    is_hq = any(s.team_kind == "hq_service" for s in actor.seats)
    unseen = [i for i in open_ones if i.hq_seen_at is None] if is_hq else []
    if not open_ones:
        return None
    return {"incidents": open_ones, "unseen": unseen, "is_hq": is_hq}


register_home_panel(HomePanel("incidents/_home_panel.html", "incident.view", _home_panel, order=1))
