"""The SLA clocks as the work-order services move them (kefu.sla, contract in docs/architecture.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from kefu.core.errors import Conflict
from kefu.org.access import Actor
from kefu.org.models import Team
from kefu.sla import selectors as sla_selectors
from kefu.sla import services as sla
from kefu.tickets.codes import TicketCode

from ..models import (
    Hop,
    Ticket,
)
from ._base import (
    _LOCK_WHY,
    HOP,
    TICKET,
    _open_hop,
)


def _start_resolve_clock(actor: Actor, t: Ticket, team: Team, now: datetime) -> Any:
    return sla.clock_start(
        owner_type=TICKET,
        owner_id=t.pk,
        kind="resolve",
        ticket_kind=t.kind,
        team=team,
        province=t.province,
        now=now,
        actor=actor,
    )


def _refresh_due(t: Ticket, now: datetime) -> None:
    """Copy the nearest running deadline onto the ticket, for the queues."""
    hop_ids = list(Hop.objects.unscoped(_LOCK_WHY).filter(ticket=t).values_list("pk", flat=True))
    infos = sla_selectors.clocks_for(TICKET, [t.pk], now=now) + sla_selectors.clocks_for(
        HOP, hop_ids, now=now
    )
    dues = [i.clock.due_at for i in infos if i.clock.status == "running" and i.clock.due_at is not None]
    t.due_at = min(dues, default=None)


def _follow_clocks(t: Ticket, now: datetime, actor: Any) -> None:
    sla.clock_follow_status(owner_type=TICKET, owner_id=t.pk, status=t.status, now=now, actor=actor)
    hop = _open_hop(t)
    if hop is not None:
        sla.clock_follow_status(owner_type=HOP, owner_id=hop.pk, status=t.status, now=now, actor=actor)
    _refresh_due(t, now)


def _check_accept_window(hop: Hop, now: datetime) -> None:
    """第七条: once the accept deadline has passed the hop counts as accepted, swept or not.

    A return after it is refused; a supervisor may reassign (改派) instead.
    """
    clock = sla_selectors.clock_of(HOP, hop.pk, "accept")
    if clock is not None and clock.due_at is not None and clock.status == "running" and clock.due_at <= now:
        due = timezone.localtime(clock.due_at).strftime("%m-%d %H:%M")
        raise Conflict(
            f"已超过 2 小时接单时限(截止 {due} 北京时间)，按第七条视为已接单，不能再退回；如确非本团队承办，请主管改派。",
            f"The accept deadline ({due} Beijing time) has passed: under the rules the order counts as "
            "accepted and can no longer be returned. A supervisor may reassign it.",
            code=TicketCode.ACCEPT_WINDOW_PASSED,
            details={"accept_due_at": clock.due_at.isoformat()},
        )
