"""The customer and the ending: replies, waiting for the customer, resolve, refer, acceptance, reopen, close."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from kefu.core.errors import ValidationFailed
from kefu.norms import services as norms
from kefu.org.access import Actor
from kefu.sla import services as sla
from kefu.tickets.codes import TicketCode

from ..models import (
    AcceptanceOutcome,
    CustomerReply,
    HopStatus,
    ReferredTo,
    ReplyMethod,
    Ticket,
)
from ._base import (
    HOP,
    TICKET,
    _begin,
    _choice,
    _confirm_problem,
    _event,
    _now,
    _open_hop,
    _save,
    _text,
)
from .clocks import _follow_clocks, _refresh_due


def _add_reply(actor: Actor, t: Ticket, method: str, content: str, now: datetime) -> CustomerReply:
    method = _choice(method, ReplyMethod, "method")
    content = _text(content, "content")
    reply = CustomerReply.objects.create(
        ticket=t, team=t.holder_team, author=actor.user, method=method, content=content, replied_at=now
    )
    t.last_reply_at = now
    return reply


def _screen(actor: Actor, t: Ticket, content: str, confirmed: bool | str) -> dict[str, Any]:
    """The service-norms check (kefu.norms) on a text for the customer: a banned phrase is refused (422),
    a discouraged one needs ``norms_confirmed``. Called before the order's transaction, so that a refused
    attempt stays recorded for quality inspection. Returns what goes on the order's event."""
    result = norms.text_screen(
        actor=actor,
        text=content,
        channel="ticket",
        contact_kind="ticket",
        contact_id=t.pk,
        province_code=t.province.code if t.province_id else "",
        confirmed=bool(confirmed),
    )
    return {"norms": norms.result_codes(result)} if result.hits else {}


def ticket_reply(
    *,
    actor: Actor,
    ticket: Ticket,
    method: str,
    content: str,
    version: int | None = None,
    now: datetime | None = None,
    norms_confirmed: bool | str = False,
) -> CustomerReply:
    """Record a reply to the customer: who (the actor, for the holding team), when, how."""
    now = _now(now)
    screened = _screen(actor, ticket, content, norms_confirmed)
    with transaction.atomic():
        t, _tr = _begin(actor, ticket, "reply", version=version)
        reply = _add_reply(actor, t, method, content, now)
        _save(t, now, "last_reply_at")
        _event(
            actor,
            t,
            "ticket.replied",
            reply=reply.pk,
            method=reply.method,
            team=t.holder_team.code,
            **screened,
        )
    return reply


def ticket_await_customer(
    *,
    actor: Actor,
    ticket: Ticket,
    note: str = "",
    version: int | None = None,
    now: datetime | None = None,
    confirm_problem: bool | str = False,
) -> Ticket:
    now = _now(now)
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "await_customer", version=version)
        t.resume_status, t.status = t.status, tr.target
        _follow_clocks(t, now, actor)
        _save(t, now, "status", "resume_status", "due_at")
        _event(
            actor,
            t,
            "ticket.waiting_customer",
            note=_text(note, "note", required=False),
            **_confirm_problem(t, confirm_problem),
        )
    return t


def ticket_customer_responded(
    *, actor: Actor, ticket: Ticket, note: str = "", version: int | None = None, now: datetime | None = None
) -> Ticket:
    now = _now(now)
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "customer_responded", version=version)
        t.status, t.resume_status = tr.target, ""
        _follow_clocks(t, now, actor)
        _save(t, now, "status", "resume_status", "due_at")
        _event(actor, t, "ticket.customer_responded", note=_text(note, "note", required=False))
    return t


def ticket_resolve(
    *,
    actor: Actor,
    ticket: Ticket,
    resolution: str,
    article_id: int | None = None,
    reply_method: str = "",
    reply_content: str = "",
    version: int | None = None,
    now: datetime | None = None,
    norms_confirmed: bool | str = False,
) -> Ticket:
    """Solved and replied. Citing a published knowledge article marks it resolved from the knowledge base.

    The customer must have had a reply (given now or before): the rules' deadlines are reply deadlines.
    A fault solved by the hotline goes back to the desk that sent it, with the result.
    """
    now = _now(now)
    resolution = _text(resolution, "resolution")
    article = None
    if article_id is not None:
        from kefu.knowledge.selectors import published_article

        article = published_article(article_id)
    screened = _screen(actor, ticket, reply_content, norms_confirmed) if reply_content else {}
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "resolve", version=version)
        fields = ["status", "resolution", "resolved_at", "due_at", "holder_team"]
        if reply_content:
            _add_reply(actor, t, reply_method or ReplyMethod.CALL_BACK, reply_content, now)
            fields.append("last_reply_at")
        elif not t.replies.exists():
            raise ValidationFailed(
                "办结前须先答复客户(记录答复方式与内容)。",
                "Reply to the customer before resolving.",
                code=TicketCode.REPLY_REQUIRED,
                fields=[{"field": "reply_content", "type": "required"}],
            )
        if article is not None:
            t.kb_article_id, t.kb_article_title, t.resolved_from_kb = (
                article.article_id,
                str(article.title)[:200],
                True,
            )
            fields += ["kb_article_id", "kb_article_title", "resolved_from_kb"]
        hop = _open_hop(t)
        if hop is not None:  # a fault solved at the receiver: the result goes back to the sender
            hop.status, hop.result, hop.closed_at = HopStatus.CLOSED, resolution, now
            hop.save(update_fields=["status", "result", "closed_at"])
            sla.clock_stop(owner_type=HOP, owner_id=hop.pk, kind="resolve", now=now, actor=actor)
            t.holder_team = hop.from_team
        sla.clock_stop(owner_type=TICKET, owner_id=t.pk, kind="resolve", now=now, actor=actor)
        t.status, t.resolution, t.resolved_at = tr.target, resolution, now
        _refresh_due(t, now)
        _save(t, now, *fields)
        _event(
            actor,
            t,
            "ticket.resolved",
            **screened,
            from_kb=t.resolved_from_kb,
            article=t.kb_article_id,
            result_to=hop.from_team.code if hop is not None else None,
        )
        if article is not None:  # the learning loop: the order's subject proposed as a similar question
            from kefu.knowledge.services import similar_propose

            similar_propose(actor=actor, article_id=article.article_id, text=t.subject, source_ref=t.number)
    return t


def ticket_refer(
    *,
    actor: Actor,
    ticket: Ticket,
    referred_to: str,
    note: str = "",
    version: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Business acceptance at the desk, hotline or online: tell the customer where to go (第三条)."""
    now = _now(now)
    referred_to = _choice(referred_to, ReferredTo, "referred_to")
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "refer", version=version)
        t.status, t.referred_to, t.resolved_at = tr.target, referred_to, now
        t.resolution = _text(note, "note", required=False) or str(ReferredTo(referred_to).label)
        sla.clock_stop(owner_type=TICKET, owner_id=t.pk, kind="resolve", now=now, actor=actor)
        _refresh_due(t, now)
        _save(t, now, "status", "referred_to", "resolved_at", "resolution", "due_at")
        _event(actor, t, "ticket.referred", referred_to=referred_to)
    return t


def ticket_record_acceptance(
    *,
    actor: Actor,
    ticket: Ticket,
    outcome: str,
    note: str = "",
    version: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Business acceptance by the account manager, done under the product's business rules."""
    now = _now(now)
    outcome = _choice(outcome, AcceptanceOutcome, "outcome")
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "record_acceptance", version=version)
        t.status, t.acceptance_outcome, t.resolved_at = tr.target, outcome, now
        t.resolution = _text(note, "note", required=False) or str(AcceptanceOutcome(outcome).label)
        sla.clock_stop(owner_type=TICKET, owner_id=t.pk, kind="resolve", now=now, actor=actor)
        _refresh_due(t, now)
        _save(t, now, "status", "acceptance_outcome", "resolved_at", "resolution", "due_at")
        _event(actor, t, "ticket.acceptance_recorded", outcome=outcome)
    return t


def ticket_reopen(
    *, actor: Actor, ticket: Ticket, note: str, version: int | None = None, now: datetime | None = None
) -> Ticket:
    """The customer is not satisfied: back to the holding team, the resolve clock resumes with what it had left."""
    now = _now(now)
    note = _text(note, "note")
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "reopen", version=version)
        t.status, t.resolved_at = tr.target, None
        sla.clock_resume(owner_type=TICKET, owner_id=t.pk, kind="resolve", now=now, actor=actor)
        _refresh_due(t, now)
        _save(t, now, "status", "resolved_at", "due_at")
        _event(actor, t, "ticket.reopened", note=note)
    return t


def ticket_close(
    *, actor: Actor, ticket: Ticket, version: int | None = None, now: datetime | None = None
) -> Ticket:
    now = _now(now)
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "close", version=version)
        t.status, t.closed_at = tr.target, now
        _save(t, now, "status", "closed_at")
        _event(actor, t, "ticket.closed")
    return t
