from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .registry import NAV


def shell(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    if actor is None:
        return {"nav_items": []}
    items = [i for i in NAV if i.permission is None or actor.can(i.permission)]
    return {"nav_items": items, "actor": actor}
