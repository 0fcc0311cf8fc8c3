"""Supervisors: reassignment (改派)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from kefu.core.errors import Forbidden, ValidationFailed
from kefu.org.access import Actor
from kefu.org.models import Team
from kefu.sla import services as sla
from kefu.tickets.codes import TicketCode

from .. import workflow
from ..models import (
    HopStatus,
    ReasonCode,
    Ticket,
)
from ._base import (
    HOP,
    _event,
    _illegal,
    _lock,
    _now,
    _open_hop,
    _save,
    _stale,
    _text,
    facts_of,
)
from .dispatch import (
    _send_hop,
    _target_team,
)

REASSIGNABLE = frozenset(tr.source for tr in workflow.TRANSITIONS if tr.action == "reassign")


def can_reassign(actor: Actor, ticket: Ticket) -> bool:
    """A supervisor of the team holding the order, while it is being worked on."""
    return ticket.status in REASSIGNABLE and actor.in_team(ticket.holder_team_id, "ticket.supervise")


def ticket_reassign(
    *,
    actor: Actor,
    ticket: Ticket,
    to_team: Team,
    note: str,
    assignee_username: str = "",
    version: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """改派: a supervisor of the holding team moves the order within the team or to another team.

    Within the team only the assignee changes. To another team the open hop (if any) ends as
    handed over, a new hop (reason 主管改派) goes to the receiver, which accepts or returns it
    with its own accept clock; whether the rules call for it is judged like any transfer, and
    one they do not is flagged and counted. One ``ticket.reassigned`` event either way.
    """
    now = _now(now)
    note = _text(note, "note")
    with transaction.atomic():
        actor.require("ticket.supervise")
        t = _lock(ticket)
        if version is not None and version != t.version:
            raise _stale(t, version)
        if t.status not in REASSIGNABLE:
            raise _illegal(t, "reassign", actor)
        if not actor.in_team(t.holder_team_id, "ticket.supervise"):
            raise Forbidden(
                "只有当前处理团队的班长可以改派。",
                "Only a supervisor of the holding team may reassign.",
                code=TicketCode.NOT_HOLDER_SUPERVISOR,
                details={"holder_team": t.holder_team.code},
            )
        user = None
        if assignee_username:
            from kefu.org.models import Membership

            m = (
                Membership.objects.filter(
                    team=to_team, user__username=assignee_username.strip(), is_active=True
                )
                .select_related("user")
                .first()
            )
            if m is None:
                raise ValidationFailed(
                    "承办人不是目标团队的成员。",
                    "The assignee is not a member of that team.",
                    fields=[{"field": "assignee"}],
                )
            user = m.user
        from_team = t.holder_team
        if to_team.pk == from_team.pk:
            if user is None:
                raise ValidationFailed(
                    "团队内改派须指定承办人。",
                    "Name the assignee to reassign within the team.",
                    fields=[{"field": "assignee", "type": "required"}],
                )
            t.assignee = user
            _save(t, now, "assignee")
            _event(
                actor,
                t,
                "ticket.reassigned",
                within_team=True,
                to_team=from_team.code,
                assignee=user.username,
                note=note,
            )
            return t
        _target_team(t, to_team)
        old = _open_hop(t)
        if old is not None:
            old.status, old.closed_at, old.result = HopStatus.CLOSED, now, old.result or note
            old.save(update_fields=["status", "closed_at", "result"])
            sla.clocks_stop_all(owner_type=HOP, owner_ids=[old.pk], now=now, handed_over=True, actor=actor)
        tr = workflow.find(facts_of(t), "reassign", by="supervisor")
        if tr is None:
            raise _illegal(t, "reassign", actor)
        # Back to the first-contact team is never off-rule; elsewhere, judged as that team's transfer.
        first = t.first_contact_team
        called_for = to_team.pk == first.pk or workflow.transfer_called_for(
            kind=t.kind,
            from_team_kind=first.kind,
            to_team_kind=to_team.kind,
            cited_article=t.kb_article_id is not None,
        )
        hop = _send_hop(
            actor,
            t,
            tr.target,
            from_team,
            to_team,
            ReasonCode.REASSIGNED,
            note,
            called_for,
            assignee=user,
            now=now,
        )
        _event(
            actor,
            t,
            "ticket.reassigned",
            within_team=False,
            hop=hop.pk,
            from_team=from_team.code,
            to_team=to_team.code,
            assignee=user.username if user else None,
            off_rule=not called_for,
            note=note,
        )
    return t
