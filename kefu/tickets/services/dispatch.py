"""Between teams: dispatch, accept (by hand or by the sweep), return, the result back, the hotline's report to the province."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from kefu.core.errors import ValidationFailed
from kefu.org.access import Actor
from kefu.org.models import Team
from kefu.sla import services as sla

from .. import workflow
from ..models import (
    Hop,
    HopStatus,
    ReasonCode,
    ReturnReason,
    Ticket,
)
from ._base import (
    HOP,
    _begin,
    _choice,
    _confirm_problem,
    _event,
    _lock,
    _now,
    _open_hop,
    _save,
    _text,
    facts_of,
)
from .clocks import _check_accept_window, _refresh_due


def _target_team(t: Ticket, to_team: Team) -> None:
    if to_team.kind not in workflow.FRONT_TEAMS:
        raise ValidationFailed(
            "只能派往专席、客户经理、语音客服或在线客服团队。",
            "Orders go to desk, account-manager, hotline or online teams only.",
            fields=[{"field": "to_team"}],
        )
    if to_team.province_id is not None and to_team.province_id != t.province_id:
        raise ValidationFailed(
            "不能派往客户所属省以外的省级团队。",
            "A provincial team of another province cannot receive this order.",
            fields=[{"field": "to_team"}],
        )
    if to_team.pk == t.holder_team_id:
        raise ValidationFailed(
            "不能派给本团队。", "Cannot dispatch to the holding team.", fields=[{"field": "to_team"}]
        )


def ticket_dispatch(
    *,
    actor: Actor,
    ticket: Ticket,
    to_team: Team,
    reason_code: str,
    note: str = "",
    version: int | None = None,
    now: datetime | None = None,
    confirm_problem: bool | str = False,
) -> Hop:
    """Hand the order to another team (派单/转派). A transfer the rules do not call for is flagged and counted."""
    now = _now(now)
    reason_code = _choice(reason_code, ReasonCode, "reason_code")
    note = _text(note, "note", required=reason_code == ReasonCode.OTHER)
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "dispatch", version=version)
        _target_team(t, to_team)
        from_team = t.holder_team
        called_for = workflow.transfer_called_for(
            kind=t.kind,
            from_team_kind=from_team.kind,
            to_team_kind=to_team.kind,
            cited_article=t.kb_article_id is not None,
        )
        hop = _send_hop(
            actor, t, tr.target, from_team, to_team, reason_code, note, called_for, assignee=None, now=now
        )
        _event(
            actor,
            t,
            "ticket.dispatched",
            hop=hop.pk,
            from_team=from_team.code,
            to_team=to_team.code,
            reason_code=reason_code,
            off_rule=not called_for,
            **_confirm_problem(t, confirm_problem),
        )
    return hop


def ticket_accept(
    *, actor: Actor, ticket: Ticket, version: int | None = None, now: datetime | None = None
) -> Hop:
    """The receiving team takes the order (within the accept deadline)."""
    now = _now(now)
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "accept", version=version)
        hop = _open_hop(t)
        assert hop is not None and hop.status == HopStatus.PENDING  # the status says a hop is pending
        _accept(t, tr, hop, now, status=HopStatus.ACCEPTED, user=actor.user, actor=actor)
        _event(actor, t, "ticket.hop_accepted", hop=hop.pk, team=hop.to_team.code)
    return hop


def _accept(
    t: Ticket,
    tr: workflow.Transition,
    hop: Hop,
    now: datetime,
    *,
    status: str,
    user: Any,
    actor: Any,
    accepted_at: datetime | None = None,
) -> None:
    # ``accepted_at`` is earlier than ``now`` only for the auto-accept: the order counts as
    # accepted at the 2-hour mark, so a late sweep must not give the team extra time.
    at = accepted_at or now
    hop.status, hop.accepted_at, hop.accepted_by = status, at, user
    hop.save(update_fields=["status", "accepted_at", "accepted_by"])
    # Auto-accepted too: the sweep marked the clock breached, stopping it records it as late.
    sla.clock_stop(owner_type=HOP, owner_id=hop.pk, kind="accept", now=at, actor=actor)
    sla.clock_start(
        owner_type=HOP,
        owner_id=hop.pk,
        kind="resolve",
        ticket_kind=t.kind,
        team=hop.to_team,
        province=t.province,
        now=at,
        actor=actor,
    )
    t.status, t.assignee = tr.target, user
    _refresh_due(t, now)
    _save(t, now, "status", "assignee", "due_at")


def hop_auto_accept(*, hop_id: int, now: datetime | None = None, deadline: datetime | None = None) -> bool:
    """The accept deadline passed without an answer: the hop counts as accepted (第七条). Idempotent.

    Called by the SLA sweep (registered in ``apps.py``) with the accept clock's
    ``deadline``: the hop counts as accepted then, and its resolution clock starts
    then, however late the sweep runs.
    """
    now = _now(now)
    accepted_at = min(deadline, now) if deadline is not None else now
    with transaction.atomic():
        hop = Hop.objects.unscoped("the SLA sweep acts on the hop its clock names").filter(pk=hop_id).first()
        if hop is None:
            return False
        t = _lock(hop.ticket)
        hop = _open_hop(t)
        if hop is None or hop.pk != hop_id or hop.status != HopStatus.PENDING:
            return False
        tr = workflow.find(facts_of(t), "auto_accept", by="system")
        if tr is None:
            return False
        _accept(
            t, tr, hop, now, status=HopStatus.AUTO_ACCEPTED, user=None, actor=None, accepted_at=accepted_at
        )
        _event(None, t, "ticket.hop_auto_accepted", hop=hop.pk, team=hop.to_team.code)
    return True


def ticket_return(
    *,
    actor: Actor,
    ticket: Ticket,
    reason: str,
    note: str = "",
    version: int | None = None,
    now: datetime | None = None,
) -> Hop:
    """The receiving team sends the order back to the sender, with a reason (within the accept deadline)."""
    now = _now(now)
    reason = _choice(reason, ReturnReason, "reason")
    note = _text(note, "note", required=reason == ReturnReason.OTHER)
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "return", version=version)
        hop = _open_hop(t)
        assert hop is not None
        _check_accept_window(hop, now)
        hop.status, hop.returned_at, hop.return_reason, hop.return_note = (
            HopStatus.RETURNED,
            now,
            reason,
            note,
        )
        hop.save(update_fields=["status", "returned_at", "return_reason", "return_note"])
        sla.clock_stop(owner_type=HOP, owner_id=hop.pk, kind="accept", now=now, handed_over=True, actor=actor)
        t.status, t.holder_team, t.assignee = tr.target, hop.from_team, hop.sent_by
        _refresh_due(t, now)
        _save(t, now, "status", "holder_team", "assignee", "due_at")
        _event(actor, t, "ticket.hop_returned", hop=hop.pk, to_team=hop.from_team.code, reason=reason)
    return hop


def ticket_return_result(
    *, actor: Actor, ticket: Ticket, result: str, version: int | None = None, now: datetime | None = None
) -> Hop:
    """The hotline's answer or result goes back to the sending team, which replies to the customer."""
    now = _now(now)
    result = _text(result, "result")
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "return_result", version=version)
        hop = _open_hop(t)
        assert hop is not None
        hop.status, hop.result, hop.closed_at = HopStatus.CLOSED, result, now
        hop.save(update_fields=["status", "result", "closed_at"])
        sla.clock_stop(owner_type=HOP, owner_id=hop.pk, kind="resolve", now=now, actor=actor)
        t.status, t.holder_team, t.assignee = tr.target, hop.from_team, hop.sent_by
        _refresh_due(t, now)
        _save(t, now, "status", "holder_team", "assignee", "due_at")
        _event(actor, t, "ticket.result_returned", hop=hop.pk, to_team=hop.from_team.code)
    return hop


def ticket_submit_to_province(
    *, actor: Actor, ticket: Ticket, note: str = "", version: int | None = None, now: datetime | None = None
) -> Hop:
    """A complaint taken at the hotline or online goes to the customer's 10000+9 desk (第三条(三)3).

    It arrives in that desk's queue (the desk holds it, status 已报送待省跟进) with a notice on the
    desk's home page, a live push to the desk's team and a mail to its leads (``kefu.tickets.mail``); the desk records it and its follow-up (``ticket_follow_up``), which archives it.
    """
    now = _now(now)
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "submit_to_province", version=version)
        desk = Team.objects.filter(kind=workflow.DESK, province_id=t.province_id).order_by("pk").first()
        if desk is None:
            raise ValidationFailed(
                "客户所属省没有10000+9政企专席团队。", "The customer's province has no desk team."
            )
        hop = Hop.objects.create(
            ticket=t,
            from_team=t.holder_team,
            to_team=desk,
            sent_by=actor.user,
            reason_code=ReasonCode.COMPLAINT_REPORT,
            note=_text(note, "note", required=False),
            requires_acceptance=False,
            status=HopStatus.PENDING,
            created_at=now,
            result=t.resolution,
        )
        t.status, t.holder_team, t.assignee = tr.target, desk, None
        _save(t, now, "status", "holder_team", "assignee")
        _event(actor, t, "ticket.submitted_to_province", hop=hop.pk, to_team=desk.code)
        # The desk hears of it now: a push to its team and a mail to its leads, both after commit.
        from ..mail import submitted_notice

        submitted_notice(ticket=t, hop=hop, desk=desk)
    return hop


def ticket_follow_up(
    *, actor: Actor, ticket: Ticket, note: str, version: int | None = None, now: datetime | None = None
) -> Ticket:
    """The province desk records a submitted complaint and its follow-up; the order is archived."""
    now = _now(now)
    note = _text(note, "note")
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "follow_up", version=version)
        hop = _open_hop(t)
        if hop is not None:
            hop.status, hop.closed_at, hop.accepted_at, hop.accepted_by = (
                HopStatus.CLOSED,
                now,
                now,
                actor.user,
            )
            hop.save(update_fields=["status", "closed_at", "accepted_at", "accepted_by"])
        t.status, t.closed_at, t.assignee = tr.target, now, actor.user
        _save(t, now, "status", "closed_at", "assignee")
        _event(actor, t, "ticket.followed_up", note=note, hop=hop.pk if hop is not None else None)
    return t


def _send_hop(
    actor: Actor,
    t: Ticket,
    status: str,
    from_team: Team,
    to_team: Team,
    reason_code: str,
    note: str,
    called_for: bool,
    *,
    assignee: Any,
    now: datetime,
) -> Hop:
    """Open a hop to ``to_team`` with its 2-hour accept clock and move the order there
    (dispatch and a supervisor's reassignment to another team). An off-rule hop is counted."""
    hop = Hop.objects.create(
        ticket=t,
        from_team=from_team,
        to_team=to_team,
        sent_by=actor.user,
        reason_code=reason_code,
        note=note,
        off_rule=not called_for,
        created_at=now,
    )
    sla.clock_start(
        owner_type=HOP,
        owner_id=hop.pk,
        kind="accept",
        ticket_kind=t.kind,
        team=to_team,
        province=t.province,
        now=now,
        actor=actor,
    )
    t.status, t.holder_team, t.assignee = status, to_team, assignee
    fields = ["status", "holder_team", "assignee", "due_at"]
    if not called_for:
        t.off_rule_transfers += 1
        fields.append("off_rule_transfers")
    _refresh_due(t, now)
    _save(t, now, *fields)
    return hop
