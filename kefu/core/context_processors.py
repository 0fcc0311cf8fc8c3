from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from .registry import NAV
from .web import actor_of

log = logging.getLogger(__name__)


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    actor = actor_of(request)
    items = []
    current = getattr(getattr(request, "resolver_match", None), "view_name", "")
    for item in NAV:
        if item.permission is not None and not actor.can(item.permission):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            # A broken entry must not take every page down; tests/test_shell.py fails on it.
            log.error("navigation entry %r does not reverse", item.url_name)
            continue
        items.append({"label": item.label, "url": url, "current": item.url_name == current})
    return {"nav_items": items, "actor": actor}
