"""Shared guards and helpers of the work-order services: the lock, the workflow check, the save, the event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from kefu.core import audit
from kefu.core.errors import Conflict, Forbidden, IllegalTransition, NotFound, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.norms import services as norms
from kefu.org.access import Actor, Seat
from kefu.tickets.codes import TicketCode

from .. import workflow
from ..models import (
    Hop,
    HopStatus,
    Status,
    Ticket,
)

TICKET = "tickets.ticket"


HOP = "tickets.hop"


_LOCK_WHY = "row lock by id of a ticket the caller already fetched through its scope"


IDEMPOTENCY_KEY_MAX = 100  # IdempotencyKey.key's length


EDITABLE_FIELDS = ("subject", "description", "category", "topic", "contact")


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _text(value: str, field: str, *, required: bool = True, limit: int = 5000) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(
            f"请填写{_FIELD_ZH.get(field, field)}。",
            f"{field} is required.",
            fields=[{"field": field, "type": "required"}],
        )
    if len(value) > limit:
        raise ValidationFailed(
            f"{_FIELD_ZH.get(field, field)}过长(最多 {limit} 字)。",
            f"{field} is longer than {limit} characters.",
            fields=[{"field": field, "type": "too_long"}],
        )
    return value


_FIELD_ZH = {
    "subject": "主题",
    "description": "问题描述",
    "content": "答复内容",
    "resolution": "处理结果",
    "note": "说明",
    "body": "备注内容",
    "result": "承办结果",
}


def _choice(value: str, choices: Any, field: str) -> str:
    if value not in choices.values:
        raise ValidationFailed(
            f"{field} 取值无效。",
            f"Invalid value for {field}.",
            fields=[{"field": field, "allowed": list(choices.values)}],
        )
    return value


def facts_of(ticket: Ticket) -> workflow.Facts:
    return workflow.Facts(
        status=ticket.status,
        kind=ticket.kind,
        channel=ticket.channel,
        holder_team_kind=ticket.holder_team.kind,
        resume_status=ticket.resume_status,
    )


def actions_for(actor: Actor, ticket: Ticket) -> list[str]:
    """What this actor may do to this order now: the table's actions, if the actor's team holds it."""
    if not actor.in_team(ticket.holder_team_id, "ticket.work"):
        return []
    return workflow.allowed_actions(facts_of(ticket))


def _illegal(ticket: Ticket, action: str, actor: Actor | None) -> IllegalTransition:
    allowed = actions_for(actor, ticket) if actor is not None else workflow.allowed_actions(facts_of(ticket))
    status_zh = Status(ticket.status).label
    return IllegalTransition(
        f"工单当前状态为「{status_zh}」，不能执行此操作；当前可执行：{'、'.join(allowed) or '无'}。",
        f"The order is {ticket.status}; '{action}' is not allowed. Allowed now: {', '.join(allowed) or 'none'}.",
        details={"status": ticket.status, "action": action, "allowed_actions": allowed},
    )


def _lock(ticket: Ticket) -> Ticket:
    locked = (
        Ticket.objects.unscoped(_LOCK_WHY)
        .select_for_update(of=("self",))
        .select_related("holder_team", "province")
        .filter(pk=ticket.pk)
        .first()
    )
    if locked is None:
        raise NotFound()
    return locked


def _begin(
    actor: Actor, ticket: Ticket, action: str, *, version: int | None = None
) -> tuple[Ticket, workflow.Transition]:
    """Lock the order and check the table, then that the actor's team holds it. Call inside atomic()."""
    actor.require("ticket.work")
    t = _lock(ticket)
    # Under the row lock: a check before it would leave a window for actions that keep the status.
    if version is not None and version != t.version:
        raise _stale(t, version)
    tr = workflow.find(facts_of(t), action)
    if tr is None:
        raise _illegal(t, action, actor)
    if not actor.in_team(t.holder_team_id, "ticket.work"):
        raise Forbidden(
            f"工单当前由「{t.holder_team.name}」处理，只有该团队成员可以操作。",
            "Only members of the team holding the order may act on it.",
            code=TicketCode.NOT_HOLDER,
            details={"holder_team": t.holder_team.code},
        )
    return t, tr


def _seat_in(actor: Actor, team_id: int) -> Seat | None:
    return next((s for s in actor.seats_with("ticket.work") if s.team_id == team_id), None)


def _save(t: Ticket, now: datetime, *fields: str) -> None:
    t.version += 1
    t.updated_at = now
    t.save(update_fields=[*fields, "version", "updated_at"])


def _event(actor: Actor | None, t: Ticket, verb: str, **data: Any) -> AuditEvent:
    return audit.record(target=t, **_event_args(actor, t, verb, data))


def _event_args(actor: Actor | None, t: Ticket, verb: str, data: dict[str, Any]) -> dict[str, Any]:
    """What an order's event records besides its target (``_event``; a create builds the row itself)."""
    user = actor.user if actor is not None and actor.user.pk else None
    seat = _seat_in(actor, t.holder_team_id) if actor is not None else None
    return {
        "actor": user,
        "verb": verb,
        "data": {"version": t.version, "status": t.status, **data},
        "province_code": t.province.code,
        "unit_code": seat.unit_code if seat else (actor.unit_code if actor is not None else ""),
    }


def _open_hop(t: Ticket) -> Hop | None:
    return (
        Hop.objects.unscoped(_LOCK_WHY)
        .select_for_update(of=("self",))
        .select_related("from_team", "to_team")
        .filter(ticket=t, status__in=[HopStatus.PENDING, HopStatus.ACCEPTED, HopStatus.AUTO_ACCEPTED])
        .first()
    )


def _stale(t: Ticket, version: int) -> Conflict:
    """409 for an edit based on an old version, saying what changed since."""
    since = [
        {
            "version": e.data.get("version"),
            "verb": e.verb,
            "label": audit.verb_label(e.verb),
            "at": e.at.isoformat(),
            "by": e.actor_label,
            "fields": sorted((e.data.get("changes") or {}).keys()),
        }
        for e in audit.timeline(t)
        if (e.data.get("version") or 0) > version
    ]
    return Conflict(
        f"工单已被他人修改(您的版本 {version}，当前版本 {t.version})，请刷新后重试。",
        f"The order changed since version {version} (now {t.version}); reload and retry.",
        code=TicketCode.STALE_VERSION,
        details={
            "your_version": version,
            "current_version": t.version,
            "status": t.status,
            "changes_since": since,
            "current": _editable_values(t),
        },
    )


def _editable_values(t: Ticket) -> dict[str, Any]:
    return {
        "subject": t.subject,
        "description": t.description,
        "category": t.category.code if t.category_id and t.category else None,
        "topic": t.topic,
        "contact": t.contact_id,
    }


def _confirm_problem(t: Ticket, confirm_problem: bool | str) -> dict[str, Any]:
    """第五条(五)/第六条(六): the customer was told the recorded problem (the standard template, filled)."""
    if not confirm_problem:
        return {}
    return {
        "problem_confirmed": norms.template_text(
            purpose="confirm_problem", number=t.number, subject=t.subject
        )
    }
