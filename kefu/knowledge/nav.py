from django.utils.translation import gettext_lazy as _

from kefu.core.registry import HomePanel, NavItem, register_home_panel, register_nav

register_nav(NavItem(_("知识库"), "knowledge:index", "kb.read", order=40))


def _review_panel(request):  # type: ignore[no-untyped-def]
    from .selectors import is_editor, review_queue

    if not is_editor(request.actor):
        return None
    qs = review_queue(request.actor)
    return {"count": qs.count(), "items": list(qs[:5])}


def _load_panel(request):  # type: ignore[no-untyped-def]
    from .selectors import pending_loads

    actor = request.actor
    if not any(s.province_id for s in actor.seats_with("kb.load")):
        return None
    qs = pending_loads(actor.scope)
    return {"count": qs.count(), "items": list(qs[:5])}


register_home_panel(HomePanel("knowledge/_panel_review.html", None, _review_panel, order=40))
register_home_panel(HomePanel("knowledge/_panel_load.html", "kb.load", _load_panel, order=41))
