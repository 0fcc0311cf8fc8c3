from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .registry import NAV


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    actor = request.actor  # type: ignore[attr-defined]
    items = [i for i in NAV if i.permission is None or actor.can(i.permission)]
    return {"nav_items": items, "actor": actor}
