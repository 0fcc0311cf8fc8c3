from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def can(actor: Any, permission: str) -> bool:
    """``{% if actor|can:"kb.author" %}``: whether the actor holds a permission (False for no actor)."""
    return bool(actor is not None and hasattr(actor, "can") and actor.can(permission))
