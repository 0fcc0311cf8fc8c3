"""Create and edit: the first contact (首问) records the order; a versioned edit of its description."""

from __future__ import annotations

import hashlib
import json
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from kefu.core import audit, rows
from kefu.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.customers.models import Contact, Customer
from kefu.org.access import Actor, Seat
from kefu.org.models import Team
from kefu.sla import services as sla
from kefu.tickets.codes import TicketCode

from .. import selectors, workflow
from ..models import (
    ACCEPTANCE_TOPICS,
    CONSULTATION_TOPICS,
    Category,
    IdempotencyKey,
    Kind,
    Status,
    Ticket,
)
from ..numbering import number_for_insert
from ._base import (
    EDITABLE_FIELDS,
    IDEMPOTENCY_KEY_MAX,
    TICKET,
    _choice,
    _editable_values,
    _event,
    _event_args,
    _illegal,
    _lock,
    _now,
    _save,
    _stale,
    _text,
)
from .create_sql import insert_new_order


def _check_category(kind: str, category: Category | None, on: datetime) -> None:
    day = timezone.localdate(on)
    if category is None:
        if kind in (Kind.COMPLAINT, Kind.FAULT):
            raise ValidationFailed(
                "投诉和故障工单必须选择分类。",
                "Complaints and faults need a category.",
                fields=[{"field": "category", "type": "required"}],
            )
        return
    if kind == Kind.ACCEPTANCE:
        raise ValidationFailed(
            "业务受理工单不计入投诉/故障分类。",
            "Acceptance orders take no category.",
            fields=[{"field": "category", "type": "not_allowed"}],
        )
    root = category
    while root.parent is not None:
        root = root.parent
    want_root = "consult" if kind == Kind.CONSULTATION else "cf"
    has_children = selectors.has_children_in_force(category, day)
    if root.code != want_root or has_children or not category.in_force(day):
        raise ValidationFailed(
            "分类无效：须为该类型下当前有效的末级分类。",
            "Invalid category: pick a leaf in force under this kind.",
            fields=[{"field": "category", "type": "invalid", "value": category.code}],
        )


def _check_topic(kind: str, topic: str) -> None:
    topics: dict[str, frozenset[str]] = {
        Kind.CONSULTATION: CONSULTATION_TOPICS,
        Kind.ACCEPTANCE: ACCEPTANCE_TOPICS,
    }
    allowed = topics.get(kind, frozenset())
    if (topic and topic not in allowed) or (kind == Kind.ACCEPTANCE and not topic):
        raise ValidationFailed(
            "细分类型与工单类型不符。",
            "The topic does not fit the kind.",
            fields=[{"field": "topic", "allowed": sorted(allowed)}],
        )


@dataclass(frozen=True)
class Created:
    ticket: Ticket
    created: bool  # False when an Idempotency-Key replay returned the earlier order
    event: AuditEvent | None = None  # the new order's ``ticket.created`` event (its whole timeline)


def _front_seat(actor: Actor, team: Team | None) -> Seat:
    seats = [s for s in actor.seats_with("ticket.create") if s.team_kind in workflow.FRONT_TEAMS]
    if team is not None:
        seats = [s for s in seats if s.team_id == team.pk]
    if not seats:
        raise Forbidden(
            "您不在可登记工单的团队中。",
            "You are not in a team that records work orders.",
            code=TicketCode.NO_FRONT_TEAM,
        )
    return seats[0]


def request_fingerprint(payload: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def ticket_create(
    *,
    actor: Actor,
    kind: str,
    customer: Customer,
    subject: str,
    description: str = "",
    category: Category | None = None,
    topic: str = "",
    contact: Contact | None = None,
    caller_phone: str = "",
    team: Team | None = None,
    idempotency_key: str | None = None,
    fingerprint: str = "",
    now: datetime | None = None,
    article_id: int | None = None,
) -> Created:
    """Record a contact as a work order at the actor's front team (the first contact, 首问).

    ``article_id`` cites a published knowledge article from the start (the order form's suggestions); the
    order's subject is then proposed to the article's author as a similar question.
    """
    actor.require("ticket.create")
    now = _now(now)
    seat = _front_seat(actor, team)
    kind = _choice(kind, Kind, "kind")
    if not actor.scope.covers(customer.province_id) or (
        seat.province_id and seat.province_id != customer.province_id
    ):
        raise NotFound()
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationFailed(
            "联系人不属于该客户。",
            "The contact does not belong to this customer.",
            fields=[{"field": "contact"}],
        )
    subject = _text(subject, "subject", limit=200)
    description = _text(description, "description", required=False)
    _check_topic(kind, topic)
    _check_category(kind, category, now)
    article = None
    if article_id is not None:
        from kefu.knowledge.selectors import published_article

        article = published_article(article_id)
    key = (idempotency_key or "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX:
        # Cutting it would make two different keys sharing a prefix return the same order.
        raise ValidationFailed(
            f"Idempotency-Key 不能超过 {IDEMPOTENCY_KEY_MAX} 个字符。",
            f"The Idempotency-Key must be at most {IDEMPOTENCY_KEY_MAX} characters.",
            code=TicketCode.IDEMPOTENCY_KEY_TOO_LONG,
            fields=[{"field": "Idempotency-Key"}],
        )
    # No read of the key before writing: a retry hits the (user, key) unique constraint, nothing is
    # written, and the except branch below answers with the first order (or 409).
    # On PostgreSQL the order, its clock, its key and its event are one statement (create_sql), atomic
    # by itself: a transaction is opened only inside a caller's (a savepoint, so a refused key leaves
    # the caller's work usable), for SQLite's several statements, or for the citation's extra write.
    one_statement = connection.vendor == "postgresql" and not connection.in_atomic_block
    try:
        with nullcontext() if one_statement and article is None else transaction.atomic():
            # The seat carries what the order and its clock need; no second read of the team row.
            team_row = rows.new(
                Team,
                id=seat.team_id,
                code=seat.team_code,
                name=seat.team_name,
                kind=seat.team_kind,
                province_id=seat.province_id,
            )
            number = number_for_insert(province_slug=customer.province.slug, now=now)
            # The clock is computed before the order is written (no query: policy and calendar are
            # cached), so the order is written once with its due date (a new order has no hops: its
            # nearest deadline is this clock's), then the clock with the order's id; its start goes on
            # the order's ``ticket.created`` event instead of an event of its own.
            clock = sla.clock_prepare(
                owner_type=TICKET,
                kind="resolve",
                ticket_kind=kind,
                team=team_row,
                province=customer.province,
                now=now,
            )
            t = rows.new(
                Ticket,
                number=number,
                kind=kind,
                topic=topic,
                channel=workflow.CHANNEL_OF_TEAM_KIND[seat.team_kind],
                province=customer.province,
                customer=customer,
                contact=contact,
                caller_phone=caller_phone[:16],
                category=category,
                subject=subject,
                description=description,
                status=Status.OPEN,
                first_contact_team=team_row,
                first_contact_agent=actor.user,
                holder_team=team_row,
                assignee=actor.user,
                created_at=now,
                updated_at=now,
                due_at=clock.due_at if clock else None,
                kb_article_id=article.article_id if article else None,
                kb_article_title=str(article.title)[:200] if article else "",
            )
            key_row = (
                rows.new(IdempotencyKey, user=actor.user, key=key, request_hash=fingerprint, created_at=now)
                if key
                else None
            )
            started = (
                {"clock": {"kind": "resolve", **sla.clock_started_data(clock)}} if clock is not None else {}
            )
            event = audit.event_row(
                target_type=TICKET,
                target_id="",  # the order's id, known once written
                **_event_args(
                    actor,
                    t,
                    "ticket.created",
                    {
                        "kind": t.kind,
                        "channel": t.channel,
                        "number": None,  # the order's number, known once written on PostgreSQL
                        "team": team_row.code,
                        "category": category.code if category else None,
                        **started,
                    },
                ),
            )
            insert_new_order(t, clock, key_row, event)
            if article is not None:  # the learning loop: the subject proposed as a similar question
                from kefu.knowledge.services import similar_propose

                similar_propose(actor=actor, article_id=article.article_id, text=subject, source_ref=t.number)
    except IntegrityError:
        # The key was used before (a retry, or two requests racing): return the first order.
        found = _replay(actor, key, fingerprint) if key else None
        if found is None:
            raise
        return found
    return Created(ticket=t, created=True, event=event)


def _replay(actor: Actor, key: str, fingerprint: str) -> Created | None:
    row = IdempotencyKey.objects.filter(user=actor.user, key=key).select_related("ticket").first()
    if row is None:
        return None
    if fingerprint and row.request_hash != fingerprint:
        raise Conflict(
            "该 Idempotency-Key 已用于内容不同的请求。",
            "This Idempotency-Key was used for a different request.",
            code=TicketCode.IDEMPOTENCY_MISMATCH,
            details={"number": row.ticket.number},
        )
    return Created(ticket=row.ticket, created=False)


def ticket_update(
    *, actor: Actor, ticket: Ticket, version: int, now: datetime | None = None, **changes: Any
) -> Ticket:
    """Edit the description fields; ``version`` must be the current one, else 409 with what changed."""
    now = _now(now)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(
            "不可修改的字段。",
            "Fields not editable.",
            fields=[{"field": f, "type": "unknown_field"} for f in sorted(unknown)],
        )
    with transaction.atomic():
        actor.require("ticket.work")
        t = _lock(ticket)
        if version != t.version:
            raise _stale(t, version)
        if t.status == Status.CLOSED:
            raise _illegal(t, "update", actor)
        if not (
            actor.in_team(t.holder_team_id, "ticket.work")
            or actor.in_team(t.first_contact_team_id, "ticket.work")
        ):
            raise Forbidden(
                "只有当前处理团队或首问团队可以修改工单。",
                "Only the holding or first-contact team may edit the order.",
                code=TicketCode.NOT_HOLDER,
            )
        if "subject" in changes:
            changes["subject"] = _text(changes["subject"], "subject", limit=200)
        if "description" in changes:
            changes["description"] = _text(changes["description"], "description", required=False)
        if "category" in changes:
            _check_category(t.kind, changes["category"], t.created_at)
        if "topic" in changes:
            _check_topic(t.kind, changes["topic"])
        if changes.get("contact") is not None and changes["contact"].customer_id != t.customer_id:
            raise ValidationFailed(
                "联系人不属于该客户。",
                "The contact does not belong to this customer.",
                fields=[{"field": "contact"}],
            )
        diff: dict[str, list[Any]] = {}
        before = _editable_values(t)
        for field, value in changes.items():
            setattr(t, field, value)
        after = _editable_values(t)
        diff = {f: [before[f], after[f]] for f in changes if before[f] != after[f]}
        if not diff:
            return t
        _save(t, now, *changes.keys())
        _event(actor, t, "ticket.updated", changes=diff)
    return t
