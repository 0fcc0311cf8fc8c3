from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kefu.core.registry import HomePanel, NavItem, register_home_panel, register_nav

register_nav(NavItem(_("工单工作台"), "tickets:workbench", "ticket.view", order=10))
register_nav(NavItem(_("登记工单"), "tickets:create", "ticket.create", order=11))


def _home_panel(request: HttpRequest) -> dict[str, Any] | None:
    from .selectors import queue_counts, submitted_complaints

    actor = request.actor  # type: ignore[attr-defined]
    if not actor.team_ids_with("ticket.work"):
        return None
    counts = queue_counts(actor)
    return {"counts": counts, "submitted": submitted_complaints(actor) if counts.get("submitted") else []}


register_home_panel(HomePanel("tickets/_home_panel.html", "ticket.view", _home_panel, order=10))
