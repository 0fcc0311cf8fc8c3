"""Internal notes."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from kefu.core.errors import Forbidden
from kefu.org.access import Actor
from kefu.tickets.codes import TicketCode

from ..models import (
    Hop,
    Note,
    Status,
    Ticket,
)
from ._base import (
    _LOCK_WHY,
    _event,
    _illegal,
    _lock,
    _now,
    _save,
    _text,
)


def _participant_team(actor: Actor, t: Ticket) -> int:
    """A team of the actor that has handled this order (holder, first contact, or a hop end)."""
    mine = actor.team_ids_with("ticket.work")
    involved = {t.holder_team_id, t.first_contact_team_id}
    for from_id, to_id in (
        Hop.objects.unscoped(_LOCK_WHY).filter(ticket=t).values_list("from_team_id", "to_team_id")
    ):
        involved.update((from_id, to_id))
    for team_id in [t.holder_team_id] + sorted(involved):
        if team_id in mine:
            return team_id
    raise Forbidden(
        "只有处理过该工单的团队成员可以添加备注或附件。",
        "Only members of a team that handled the order may add notes or files.",
        code=TicketCode.NOT_PARTICIPANT,
    )


def note_add(*, actor: Actor, ticket: Ticket, body: str, now: datetime | None = None) -> Note:
    """An internal note (never shown to the customer)."""
    now = _now(now)
    body = _text(body, "body")
    with transaction.atomic():
        actor.require("ticket.work")
        t = _lock(ticket)
        if t.status == Status.CLOSED:
            raise _illegal(t, "note", actor)
        team_id = _participant_team(actor, t)
        note = Note.objects.create(ticket=t, team_id=team_id, author=actor.user, body=body, created_at=now)
        _save(t, now)
        _event(actor, t, "ticket.noted", note=note.pk)
    return note
