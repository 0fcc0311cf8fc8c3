"""Writing and reading the audit trail.

``record()`` is called by services inside their transaction; nothing else
writes ``AuditEvent``. Apps register human labels for their verbs at import
time so the timeline can show them in the reader's language.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.functional import Promise

from .models import AuditEvent

_VERB_LABELS: dict[str, str | Promise] = {}


def register_verbs(labels: dict[str, str | Promise]) -> None:
    _VERB_LABELS.update(labels)


def verb_label(verb: str) -> str:
    label = _VERB_LABELS.get(verb)
    return str(label) if label is not None else verb


def target_key(target: models.Model) -> tuple[str, str]:
    return target._meta.label_lower, str(target.pk)


def record(
    *,
    actor: Any,
    verb: str,
    target: models.Model,
    data: dict[str, Any] | None = None,
    province_code: str = "",
    unit_code: str = "",
) -> AuditEvent:
    """Append one event. ``actor`` is a user or None for the system."""
    target_type, target_id = target_key(target)
    label = ""
    if actor is not None:
        label = getattr(actor, "display_name", "") or actor.get_username()
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_label=label or "系统",
        unit_code=unit_code,
        province_code=province_code,
        verb=verb,
        target_type=target_type,
        target_id=target_id,
        data=data or {},
    )


def timeline(target: models.Model) -> models.QuerySet[AuditEvent]:
    """Events of one object. Callers pass an object they already fetched through a scope."""
    target_type, target_id = target_key(target)
    return AuditEvent.objects.filter(target_type=target_type, target_id=target_id).select_related("actor")
