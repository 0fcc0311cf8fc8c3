from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def can(actor: Any, permission: str) -> bool:
    """``{% if actor|can:"kb.author" %}``: whether the actor holds a permission (False for no actor)."""
    return bool(actor is not None and hasattr(actor, "can") and actor.can(permission))


@register.filter
def label_of(labels: dict[str, str], code: str) -> str:
    """``{{ category_labels|label_of:r.category_code }}``: a code's label from a dict built once per page."""
    return labels.get(code, code) if labels else code
