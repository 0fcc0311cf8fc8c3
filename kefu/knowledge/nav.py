from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kefu.core.registry import HomePanel, NavItem, register_home_panel, register_nav
from kefu.core.web import actor_of

register_nav(NavItem(_("知识库"), "knowledge:index", "kb.read", order=40))


def _review_panel(request: HttpRequest) -> dict[str, Any] | None:
    from .selectors import is_editor, review_queue

    actor = actor_of(request)
    if not is_editor(actor):
        return None
    qs = review_queue(actor)
    return {"count": qs.count(), "items": list(qs[:5])}


def _load_panel(request: HttpRequest) -> dict[str, Any] | None:
    from .selectors import pending_loads

    actor = actor_of(request)
    if not any(s.province_id for s in actor.seats_with("kb.load")):
        return None
    qs = pending_loads(actor.scope)
    return {"count": qs.count(), "items": list(qs[:5])}


register_home_panel(HomePanel("knowledge/_panel_review.html", None, _review_panel, order=40))
register_home_panel(HomePanel("knowledge/_panel_load.html", "kb.load", _load_panel, order=41))
