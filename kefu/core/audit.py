"""Writing and reading the audit trail.

``record()`` is called by services inside their transaction; nothing else
writes ``AuditEvent``. Apps register human labels for their verbs at import
time so the timeline can show them in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import models
from django.utils import timezone
from django.utils.functional import Promise

from . import rows
from .models import AuditEvent

_VERB_LABELS: dict[str, str | Promise] = {}


def register_verbs(labels: dict[str, str | Promise]) -> None:
    _VERB_LABELS.update(labels)


def verb_label(verb: str) -> str:
    label = _VERB_LABELS.get(verb)
    return str(label) if label is not None else verb


def target_key(target: models.Model) -> tuple[str, str]:
    return target._meta.label_lower, str(target.pk)


def _label(actor: Any) -> str:
    label = ""
    if actor is not None:
        label = getattr(actor, "display_name", "") or actor.get_username()
    return label or "系统"


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
    event = event_row(
        actor=actor,
        verb=verb,
        target_type=target_type,
        target_id=target_id,
        data=data,
        province_code=province_code,
        unit_code=unit_code,
    )
    event.save(force_insert=True)
    return event


def event_row(
    *,
    actor: Any,
    verb: str,
    target_type: str,
    target_id: str,
    data: dict[str, Any] | None = None,
    province_code: str = "",
    unit_code: str = "",
) -> AuditEvent:
    """The event ``record`` writes, unsaved: for a writer inserting it in one statement with its target
    (a new work order, whose id the database gives in that same statement)."""
    return rows.new(
        AuditEvent,
        actor=actor if actor is not None and actor.pk else None,
        actor_label=_label(actor),
        unit_code=unit_code,
        province_code=province_code,
        verb=verb,
        target_type=target_type,
        target_id=target_id,
        data=data or {},
    )


@dataclass(frozen=True)
class Entry:
    """One event of a batch (:func:`record_many`): the target given by its key, as ``target_key`` makes it."""

    verb: str
    target_type: str
    target_id: str
    data: dict[str, Any]
    province_code: str = ""
    unit_code: str = ""


def record_many(entries: list[Entry], *, actor: Any = None, at: datetime | None = None) -> int:
    """Append a batch of events in one INSERT (a job deciding a thousand clocks at once). Returns rows written."""
    if not entries:
        return 0
    when = at or timezone.now()
    events = []
    for e in entries:
        event = event_row(
            actor=actor,
            verb=e.verb,
            target_type=e.target_type,
            target_id=e.target_id,
            data=e.data,
            province_code=e.province_code,
            unit_code=e.unit_code,
        )
        event.at = when
        events.append(event)
    AuditEvent.objects.bulk_create(
        events,
        batch_size=1000,
    )
    return len(entries)


def timeline(target: models.Model) -> models.QuerySet[AuditEvent]:
    """Events of one object. Callers pass an object they already fetched through a scope."""
    target_type, target_id = target_key(target)
    return AuditEvent.objects.filter(target_type=target_type, target_id=target_id).select_related("actor")


DISPLAY_TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class TimelineRow:
    """One event as a reader sees it: local (Beijing) time, the verb in the reader's language."""

    at: datetime  # aware, in Asia/Shanghai
    at_display: str
    verb: str
    label: str
    actor: str
    details: list[tuple[str, str]]


def timeline_rows(events: Any) -> list[TimelineRow]:
    """Turn events into rows for ``core/_timeline.html``; labels follow the active language."""
    rows = []
    for event in events:
        local = timezone.localtime(event.at, DISPLAY_TZ)
        details = [(str(k), str(v)) for k, v in sorted((event.data or {}).items())]
        rows.append(
            TimelineRow(
                at=local,
                at_display=local.strftime("%Y-%m-%d %H:%M"),
                verb=event.verb,
                label=verb_label(event.verb),
                actor=event.actor_label,
                details=details,
            )
        )
    return rows


def timeline_for(target: models.Model) -> list[TimelineRow]:
    """Readable timeline of one object; pass an object already fetched through the caller's scope."""
    return timeline_rows(timeline(target))
