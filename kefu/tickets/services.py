"""The only writers of work orders.

Every action: guard (the workflow table, then the actor's team), lock the
ticket row, change it, bump ``version``, write one audit event on the ticket,
and move the SLA clocks in the same transaction. ``now`` defaults to the
current time; demo data and tests pass one in the past.

Clocks (kefu.sla, contract in docs/architecture.md): a ``resolve`` clock on
the ticket from creation (charged to the first-contact team); per hop an
``accept`` clock while it waits for the receiver and a ``resolve`` clock once
accepted. Waiting for the customer pauses what the policies say.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kefu.core import audit
from kefu.core.errors import Conflict, Forbidden, IllegalTransition, NotFound, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.customers.models import Contact, Customer
from kefu.norms import services as norms
from kefu.org.access import Actor, Seat
from kefu.org.models import Team
from kefu.sla import selectors as sla_selectors
from kefu.sla import services as sla

from . import selectors, workflow
from .models import (
    ACCEPTANCE_TOPICS,
    CONSULTATION_TOPICS,
    AcceptanceOutcome,
    Category,
    CustomerReply,
    Hop,
    HopStatus,
    IdempotencyKey,
    Kind,
    Note,
    ReasonCode,
    ReferredTo,
    ReplyMethod,
    ReturnReason,
    Status,
    Ticket,
)
from .numbering import reserve

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
        raise ValidationFailed(f"请填写{_FIELD_ZH.get(field, field)}。", f"{field} is required.",
                               details=[{"field": field, "type": "required"}])
    if len(value) > limit:
        raise ValidationFailed(f"{_FIELD_ZH.get(field, field)}过长(最多 {limit} 字)。",
                               f"{field} is longer than {limit} characters.",
                               details=[{"field": field, "type": "too_long"}])
    return value


_FIELD_ZH = {
    "subject": "主题", "description": "问题描述", "content": "答复内容", "resolution": "处理结果",
    "note": "说明", "body": "备注内容", "result": "承办结果",
}


def _choice(value: str, choices: Any, field: str) -> str:
    if value not in choices.values:
        raise ValidationFailed(f"{field} 取值无效。", f"Invalid value for {field}.",
                               details=[{"field": field, "allowed": list(choices.values)}])
    return value


# -- guards --------------------------------------------------------------------

def facts_of(ticket: Ticket) -> workflow.Facts:
    return workflow.Facts(status=ticket.status, kind=ticket.kind, channel=ticket.channel,
                          holder_team_kind=ticket.holder_team.kind, resume_status=ticket.resume_status)


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
        Ticket.objects.unscoped(_LOCK_WHY).select_for_update(of=("self",))
        .select_related("holder_team", "province").filter(pk=ticket.pk).first()
    )
    if locked is None:
        raise NotFound()
    return locked


def _begin(actor: Actor, ticket: Ticket, action: str, *, version: int | None = None) -> tuple[Ticket, workflow.Transition]:
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
            code="not_holder", details={"holder_team": t.holder_team.code},
        )
    return t, tr


def _seat_in(actor: Actor, team_id: int) -> Seat | None:
    return next((s for s in actor.seats_with("ticket.work") if s.team_id == team_id), None)


def _save(t: Ticket, now: datetime, *fields: str) -> None:
    t.version += 1
    t.updated_at = now
    t.save(update_fields=[*fields, "version", "updated_at"])


def _event(actor: Actor | None, t: Ticket, verb: str, **data: Any) -> AuditEvent:
    user = actor.user if actor is not None and actor.user.pk else None
    seat = _seat_in(actor, t.holder_team_id) if actor is not None else None
    return audit.record(
        actor=user, verb=verb, target=t,
        data={"version": t.version, "status": t.status, **data},
        province_code=t.province.code,
        unit_code=seat.unit_code if seat else (actor.unit_code if actor is not None else ""),
    )


def _refresh_due(t: Ticket, now: datetime) -> None:
    """Copy the nearest running deadline onto the ticket, for the queues."""
    hop_ids = list(Hop.objects.unscoped(_LOCK_WHY).filter(ticket=t).values_list("pk", flat=True))
    infos = sla_selectors.clocks_for(TICKET, [t.pk], now=now) + sla_selectors.clocks_for(HOP, hop_ids, now=now)
    dues = [i.clock.due_at for i in infos if i.clock.status == "running" and i.clock.due_at is not None]
    t.due_at = min(dues, default=None)


def _open_hop(t: Ticket) -> Hop | None:
    return (
        Hop.objects.unscoped(_LOCK_WHY).select_for_update(of=("self",)).select_related("from_team", "to_team")
        .filter(ticket=t, status__in=[HopStatus.PENDING, HopStatus.ACCEPTED, HopStatus.AUTO_ACCEPTED]).first()
    )


def _stale(t: Ticket, version: int) -> Conflict:
    """409 for an edit based on an old version, saying what changed since."""
    since = [
        {"version": e.data.get("version"), "verb": e.verb, "label": audit.verb_label(e.verb),
         "at": e.at.isoformat(), "by": e.actor_label, "fields": sorted((e.data.get("changes") or {}).keys())}
        for e in audit.timeline(t) if (e.data.get("version") or 0) > version
    ]
    return Conflict(
        f"工单已被他人修改(您的版本 {version}，当前版本 {t.version})，请刷新后重试。",
        f"The order changed since version {version} (now {t.version}); reload and retry.",
        code="stale_version",
        details={"your_version": version, "current_version": t.version, "status": t.status,
                 "changes_since": since, "current": _editable_values(t)},
    )


def _editable_values(t: Ticket) -> dict[str, Any]:
    return {"subject": t.subject, "description": t.description,
            "category": t.category.code if t.category_id and t.category else None,
            "topic": t.topic, "contact": t.contact_id}


# -- categories ----------------------------------------------------------------

def _check_category(kind: str, category: Category | None, on: datetime) -> None:
    day = timezone.localdate(on)
    if category is None:
        if kind in (Kind.COMPLAINT, Kind.FAULT):
            raise ValidationFailed("投诉和故障工单必须选择分类。", "Complaints and faults need a category.",
                                   details=[{"field": "category", "type": "required"}])
        return
    if kind == Kind.ACCEPTANCE:
        raise ValidationFailed("业务受理工单不计入投诉/故障分类。", "Acceptance orders take no category.",
                               details=[{"field": "category", "type": "not_allowed"}])
    root = category
    while root.parent_id is not None:
        root = root.parent  # type: ignore[assignment]
    want_root = "consult" if kind == Kind.CONSULTATION else "cf"
    has_children = selectors.has_children_in_force(category, day)
    if root.code != want_root or has_children or not category.in_force(day):
        raise ValidationFailed("分类无效：须为该类型下当前有效的末级分类。",
                               "Invalid category: pick a leaf in force under this kind.",
                               details=[{"field": "category", "type": "invalid", "value": category.code}])


def _check_topic(kind: str, topic: str) -> None:
    topics: dict[str, frozenset[str]] = {Kind.CONSULTATION: CONSULTATION_TOPICS, Kind.ACCEPTANCE: ACCEPTANCE_TOPICS}
    allowed = topics.get(kind, frozenset())
    if (topic and topic not in allowed) or (kind == Kind.ACCEPTANCE and not topic):
        raise ValidationFailed("细分类型与工单类型不符。", "The topic does not fit the kind.",
                               details=[{"field": "topic", "allowed": sorted(allowed)}])


# -- create / edit -------------------------------------------------------------

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
        raise Forbidden("您不在可登记工单的团队中。", "You are not in a team that records work orders.",
                        code="no_front_team")
    return seats[0]


def request_fingerprint(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def ticket_create(
    *, actor: Actor, kind: str, customer: Customer, subject: str, description: str = "",
    category: Category | None = None, topic: str = "", contact: Contact | None = None, caller_phone: str = "",
    team: Team | None = None, idempotency_key: str | None = None, fingerprint: str = "", now: datetime | None = None,
) -> Created:
    """Record a contact as a work order at the actor's front team (the first contact, 首问)."""
    actor.require("ticket.create")
    now = _now(now)
    seat = _front_seat(actor, team)
    kind = _choice(kind, Kind, "kind")
    if not actor.scope.covers(customer.province_id) or (seat.province_id and seat.province_id != customer.province_id):
        raise NotFound()
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationFailed("联系人不属于该客户。", "The contact does not belong to this customer.",
                               details=[{"field": "contact"}])
    subject = _text(subject, "subject", limit=200)
    description = _text(description, "description", required=False)
    _check_topic(kind, topic)
    _check_category(kind, category, now)
    key = (idempotency_key or "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX:
        # Cutting it would make two different keys sharing a prefix return the same order.
        raise ValidationFailed(f"Idempotency-Key 不能超过 {IDEMPOTENCY_KEY_MAX} 个字符。",
                               f"The Idempotency-Key must be at most {IDEMPOTENCY_KEY_MAX} characters.",
                               code="idempotency_key_too_long", details=[{"field": "Idempotency-Key"}])
    # No read of the key before writing: a retry hits the (user, key) unique constraint, the whole
    # transaction rolls back, and the except branch below answers with the first order (or 409).
    try:
        with transaction.atomic():
            # The seat carries what the order and its clock need; no second read of the team row.
            team_row = Team(pk=seat.team_id, code=seat.team_code, name=seat.team_name, kind=seat.team_kind,
                            province_id=seat.province_id)
            number, pk = reserve(province_slug=customer.province.slug, now=now)
            t = Ticket(
                pk=pk, number=number, kind=kind, topic=topic,
                channel=workflow.CHANNEL_OF_TEAM_KIND[seat.team_kind], province=customer.province,
                customer=customer, contact=contact, caller_phone=caller_phone[:16], category=category,
                subject=subject, description=description, status=Status.OPEN,
                first_contact_team=team_row, first_contact_agent=actor.user, holder_team=team_row,
                assignee=actor.user, created_at=now, updated_at=now,
            )
            if pk is not None:
                # The id is known (PostgreSQL): start the clock first and write the order once, with its
                # due date (a new order has no hops: its nearest deadline is this clock's).
                clock = _start_resolve_clock(actor, t, team_row, now)
                t.due_at = clock.due_at if clock is not None else None
                t.save(force_insert=True)
            else:
                t.save(force_insert=True)
                clock = _start_resolve_clock(actor, t, team_row, now)
                if clock is not None and clock.due_at is not None:
                    t.due_at = clock.due_at
                    Ticket.objects.unscoped(_LOCK_WHY).filter(pk=t.pk).update(due_at=t.due_at)
            if key:
                IdempotencyKey.objects.create(user=actor.user, key=key, request_hash=fingerprint, ticket=t,
                                              created_at=now)
            event = _event(actor, t, "ticket.created", kind=t.kind, channel=t.channel, number=t.number,
                   team=team_row.code, category=category.code if category else None)
    except IntegrityError:
        # The key was used before (a retry, or two requests racing): return the first order.
        found = _replay(actor, key, fingerprint) if key else None
        if found is None:
            raise
        return found
    return Created(ticket=t, created=True, event=event)


def _start_resolve_clock(actor: Actor, t: Ticket, team: Team, now: datetime) -> Any:
    return sla.clock_start(owner_type=TICKET, owner_id=t.pk, kind="resolve", ticket_kind=t.kind, team=team,
                           province=t.province, now=now, actor=actor)


def _replay(actor: Actor, key: str, fingerprint: str) -> Created | None:
    row = IdempotencyKey.objects.filter(user=actor.user, key=key).select_related("ticket").first()
    if row is None:
        return None
    if fingerprint and row.request_hash != fingerprint:
        raise Conflict("该 Idempotency-Key 已用于内容不同的请求。",
                       "This Idempotency-Key was used for a different request.", code="idempotency_mismatch",
                       details={"number": row.ticket.number})
    return Created(ticket=row.ticket, created=False)


def ticket_update(*, actor: Actor, ticket: Ticket, version: int, now: datetime | None = None,
                  **changes: Any) -> Ticket:
    """Edit the description fields; ``version`` must be the current one, else 409 with what changed."""
    now = _now(now)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed("不可修改的字段。", "Fields not editable.", details=[{"field": f} for f in sorted(unknown)])
    with transaction.atomic():
        actor.require("ticket.work")
        t = _lock(ticket)
        if version != t.version:
            raise _stale(t, version)
        if t.status == Status.CLOSED:
            raise _illegal(t, "update", actor)
        if not (actor.in_team(t.holder_team_id, "ticket.work") or actor.in_team(t.first_contact_team_id, "ticket.work")):
            raise Forbidden("只有当前处理团队或首问团队可以修改工单。",
                            "Only the holding or first-contact team may edit the order.", code="not_holder")
        if "subject" in changes:
            changes["subject"] = _text(changes["subject"], "subject", limit=200)
        if "description" in changes:
            changes["description"] = _text(changes["description"], "description", required=False)
        if "category" in changes:
            _check_category(t.kind, changes["category"], t.created_at)
        if "topic" in changes:
            _check_topic(t.kind, changes["topic"])
        if changes.get("contact") is not None and changes["contact"].customer_id != t.customer_id:
            raise ValidationFailed("联系人不属于该客户。", "The contact does not belong to this customer.",
                                   details=[{"field": "contact"}])
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


# -- hops ----------------------------------------------------------------------

def _target_team(t: Ticket, to_team: Team) -> None:
    if to_team.kind not in workflow.FRONT_TEAMS:
        raise ValidationFailed("只能派往专席、客户经理、语音客服或在线客服团队。",
                               "Orders go to desk, account-manager, hotline or online teams only.",
                               details=[{"field": "to_team"}])
    if to_team.province_id is not None and to_team.province_id != t.province_id:
        raise ValidationFailed("不能派往客户所属省以外的省级团队。",
                               "A provincial team of another province cannot receive this order.",
                               details=[{"field": "to_team"}])
    if to_team.pk == t.holder_team_id:
        raise ValidationFailed("不能派给本团队。", "Cannot dispatch to the holding team.",
                               details=[{"field": "to_team"}])


def ticket_dispatch(*, actor: Actor, ticket: Ticket, to_team: Team, reason_code: str, note: str = "",
                    version: int | None = None, now: datetime | None = None,
                    confirm_problem: bool | str = False) -> Hop:
    """Hand the order to another team (派单/转派). A transfer the rules do not call for is flagged and counted."""
    now = _now(now)
    reason_code = _choice(reason_code, ReasonCode, "reason_code")
    note = _text(note, "note", required=reason_code == ReasonCode.OTHER)
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "dispatch", version=version)
        _target_team(t, to_team)
        from_team = t.holder_team
        called_for = workflow.transfer_called_for(kind=t.kind, from_team_kind=from_team.kind,
                                                  to_team_kind=to_team.kind, cited_article=t.kb_article_id is not None)
        hop = Hop.objects.create(ticket=t, from_team=from_team, to_team=to_team, sent_by=actor.user,
                                 reason_code=reason_code, note=note, off_rule=not called_for, created_at=now)
        sla.clock_start(owner_type=HOP, owner_id=hop.pk, kind="accept", ticket_kind=t.kind, team=to_team,
                        province=t.province, now=now, actor=actor)
        t.status, t.holder_team, t.assignee = tr.target, to_team, None
        fields = ["status", "holder_team", "assignee", "due_at"]
        if not called_for:
            t.off_rule_transfers += 1
            fields.append("off_rule_transfers")
        _refresh_due(t, now)
        _save(t, now, *fields)
        _event(actor, t, "ticket.dispatched", hop=hop.pk, from_team=from_team.code, to_team=to_team.code,
               reason_code=reason_code, off_rule=not called_for, **_confirm_problem(t, confirm_problem))
    return hop


def ticket_accept(*, actor: Actor, ticket: Ticket, version: int | None = None, now: datetime | None = None) -> Hop:
    """The receiving team takes the order (within the accept deadline)."""
    now = _now(now)
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "accept", version=version)
        hop = _open_hop(t)
        assert hop is not None and hop.status == HopStatus.PENDING  # the status says a hop is pending
        _accept(t, tr, hop, now, status=HopStatus.ACCEPTED, user=actor.user, actor=actor)
        _event(actor, t, "ticket.hop_accepted", hop=hop.pk, team=hop.to_team.code)
    return hop


def _accept(t: Ticket, tr: workflow.Transition, hop: Hop, now: datetime, *, status: str, user: Any,
            actor: Any, accepted_at: datetime | None = None) -> None:
    # ``accepted_at`` is earlier than ``now`` only for the auto-accept: the order counts as
    # accepted at the 2-hour mark, so a late sweep must not give the team extra time.
    at = accepted_at or now
    hop.status, hop.accepted_at, hop.accepted_by = status, at, user
    hop.save(update_fields=["status", "accepted_at", "accepted_by"])
    # Auto-accepted too: the sweep marked the clock breached, stopping it records it as late.
    sla.clock_stop(owner_type=HOP, owner_id=hop.pk, kind="accept", now=at, actor=actor)
    sla.clock_start(owner_type=HOP, owner_id=hop.pk, kind="resolve", ticket_kind=t.kind, team=hop.to_team,
                    province=t.province, now=at, actor=actor)
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
        hop = _open_hop(t)  # type: ignore[assignment]
        if hop is None or hop.pk != hop_id or hop.status != HopStatus.PENDING:
            return False
        tr = workflow.find(facts_of(t), "auto_accept", by="system")
        if tr is None:
            return False
        _accept(t, tr, hop, now, status=HopStatus.AUTO_ACCEPTED, user=None, actor=None, accepted_at=accepted_at)
        _event(None, t, "ticket.hop_auto_accepted", hop=hop.pk, team=hop.to_team.code)
    return True


def ticket_return(*, actor: Actor, ticket: Ticket, reason: str, note: str = "", version: int | None = None, now: datetime | None = None) -> Hop:
    """The receiving team sends the order back to the sender, with a reason (within the accept deadline)."""
    now = _now(now)
    reason = _choice(reason, ReturnReason, "reason")
    note = _text(note, "note", required=reason == ReturnReason.OTHER)
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "return", version=version)
        hop = _open_hop(t)
        assert hop is not None
        _check_accept_window(hop, now)
        hop.status, hop.returned_at, hop.return_reason, hop.return_note = HopStatus.RETURNED, now, reason, note
        hop.save(update_fields=["status", "returned_at", "return_reason", "return_note"])
        sla.clock_stop(owner_type=HOP, owner_id=hop.pk, kind="accept", now=now, handed_over=True, actor=actor)
        t.status, t.holder_team, t.assignee = tr.target, hop.from_team, hop.sent_by
        _refresh_due(t, now)
        _save(t, now, "status", "holder_team", "assignee", "due_at")
        _event(actor, t, "ticket.hop_returned", hop=hop.pk, to_team=hop.from_team.code, reason=reason)
    return hop


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
            code="accept_window_passed", details={"accept_due_at": clock.due_at.isoformat()},
        )


def ticket_return_result(*, actor: Actor, ticket: Ticket, result: str, version: int | None = None, now: datetime | None = None) -> Hop:
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


# -- the customer --------------------------------------------------------------

def _add_reply(actor: Actor, t: Ticket, method: str, content: str, now: datetime) -> CustomerReply:
    method = _choice(method, ReplyMethod, "method")
    content = _text(content, "content")
    reply = CustomerReply.objects.create(ticket=t, team=t.holder_team, author=actor.user, method=method,
                                         content=content, replied_at=now)
    t.last_reply_at = now
    return reply


def _screen(actor: Actor, t: Ticket, content: str, confirmed: bool | str) -> dict[str, Any]:
    """The service-norms check (kefu.norms) on a text for the customer: a banned phrase is refused (422),
    a discouraged one needs ``norms_confirmed``. Called before the order's transaction, so that a refused
    attempt stays recorded for quality inspection. Returns what goes on the order's event."""
    result = norms.text_screen(actor=actor, text=content, channel="ticket", contact_kind="ticket", contact_id=t.pk,
                               province_code=t.province.code if t.province_id else "", confirmed=bool(confirmed))
    return {"norms": norms.result_codes(result)} if result.hits else {}


def _confirm_problem(t: Ticket, confirm_problem: bool | str) -> dict[str, Any]:
    """第五条(五)/第六条(六): the customer was told the recorded problem (the standard template, filled)."""
    if not confirm_problem:
        return {}
    return {"problem_confirmed": norms.template_text(purpose="confirm_problem", number=t.number, subject=t.subject)}


def ticket_reply(*, actor: Actor, ticket: Ticket, method: str, content: str,
                 version: int | None = None, now: datetime | None = None,
                 norms_confirmed: bool | str = False) -> CustomerReply:
    """Record a reply to the customer: who (the actor, for the holding team), when, how."""
    now = _now(now)
    screened = _screen(actor, ticket, content, norms_confirmed)
    with transaction.atomic():
        t, _tr = _begin(actor, ticket, "reply", version=version)
        reply = _add_reply(actor, t, method, content, now)
        _save(t, now, "last_reply_at")
        _event(actor, t, "ticket.replied", reply=reply.pk, method=reply.method, team=t.holder_team.code, **screened)
    return reply


def ticket_await_customer(*, actor: Actor, ticket: Ticket, note: str = "", version: int | None = None, now: datetime | None = None,
                          confirm_problem: bool | str = False) -> Ticket:
    now = _now(now)
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "await_customer", version=version)
        t.resume_status, t.status = t.status, tr.target
        _follow_clocks(t, now, actor)
        _save(t, now, "status", "resume_status", "due_at")
        _event(actor, t, "ticket.waiting_customer", note=_text(note, "note", required=False),
               **_confirm_problem(t, confirm_problem))
    return t


def ticket_customer_responded(*, actor: Actor, ticket: Ticket, note: str = "", version: int | None = None, now: datetime | None = None) -> Ticket:
    now = _now(now)
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "customer_responded", version=version)
        t.status, t.resume_status = tr.target, ""
        _follow_clocks(t, now, actor)
        _save(t, now, "status", "resume_status", "due_at")
        _event(actor, t, "ticket.customer_responded", note=_text(note, "note", required=False))
    return t


def _follow_clocks(t: Ticket, now: datetime, actor: Any) -> None:
    sla.clock_follow_status(owner_type=TICKET, owner_id=t.pk, status=t.status, now=now, actor=actor)
    hop = _open_hop(t)
    if hop is not None:
        sla.clock_follow_status(owner_type=HOP, owner_id=hop.pk, status=t.status, now=now, actor=actor)
    _refresh_due(t, now)


# -- ending --------------------------------------------------------------------

def ticket_resolve(
    *, actor: Actor, ticket: Ticket, resolution: str, article_id: int | None = None,
    reply_method: str = "", reply_content: str = "", version: int | None = None, now: datetime | None = None,
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
            raise ValidationFailed("办结前须先答复客户(记录答复方式与内容)。",
                                   "Reply to the customer before resolving.", code="reply_required",
                                   details=[{"field": "reply_content", "type": "required"}])
        if article is not None:
            t.kb_article_id, t.kb_article_title, t.resolved_from_kb = article.article_id, str(article.title)[:200], True
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
        _event(actor, t, "ticket.resolved", **screened, from_kb=t.resolved_from_kb, article=t.kb_article_id,
               result_to=hop.from_team.code if hop is not None else None)
        if article is not None:  # the learning loop: the order's subject proposed as a similar question
            from kefu.knowledge.services import similar_propose

            similar_propose(actor=actor, article_id=article.article_id, text=t.subject, source_ref=t.number)
    return t


def ticket_refer(*, actor: Actor, ticket: Ticket, referred_to: str, note: str = "",
                 version: int | None = None, now: datetime | None = None) -> Ticket:
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


def ticket_record_acceptance(*, actor: Actor, ticket: Ticket, outcome: str, note: str = "",
                             version: int | None = None, now: datetime | None = None) -> Ticket:
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


def ticket_reopen(*, actor: Actor, ticket: Ticket, note: str, version: int | None = None, now: datetime | None = None) -> Ticket:
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


def ticket_close(*, actor: Actor, ticket: Ticket, version: int | None = None, now: datetime | None = None) -> Ticket:
    now = _now(now)
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "close", version=version)
        t.status, t.closed_at = tr.target, now
        _save(t, now, "status", "closed_at")
        _event(actor, t, "ticket.closed")
    return t


def ticket_submit_to_province(*, actor: Actor, ticket: Ticket, note: str = "", version: int | None = None,
                              now: datetime | None = None) -> Hop:
    """A complaint taken at the hotline or online goes to the customer's 10000+9 desk (第三条(三)3).

    It arrives in that desk's queue (the desk holds it, status 已报送待省跟进) with a notice on the
    desk's home page; the desk records it and its follow-up (``ticket_follow_up``), which archives it.
    """
    now = _now(now)
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "submit_to_province", version=version)
        desk = Team.objects.filter(kind=workflow.DESK, province_id=t.province_id).order_by("pk").first()
        if desk is None:
            raise ValidationFailed("客户所属省没有10000+9政企专席团队。", "The customer's province has no desk team.")
        hop = Hop.objects.create(
            ticket=t, from_team=t.holder_team, to_team=desk, sent_by=actor.user,
            reason_code=ReasonCode.COMPLAINT_REPORT, note=_text(note, "note", required=False),
            requires_acceptance=False, status=HopStatus.PENDING, created_at=now, result=t.resolution,
        )
        t.status, t.holder_team, t.assignee = tr.target, desk, None
        _save(t, now, "status", "holder_team", "assignee")
        _event(actor, t, "ticket.submitted_to_province", hop=hop.pk, to_team=desk.code)
    return hop


def ticket_follow_up(*, actor: Actor, ticket: Ticket, note: str, version: int | None = None,
                     now: datetime | None = None) -> Ticket:
    """The province desk records a submitted complaint and its follow-up; the order is archived."""
    now = _now(now)
    note = _text(note, "note")
    with transaction.atomic():
        t, tr = _begin(actor, ticket, "follow_up", version=version)
        hop = _open_hop(t)
        if hop is not None:
            hop.status, hop.closed_at, hop.accepted_at, hop.accepted_by = HopStatus.CLOSED, now, now, actor.user
            hop.save(update_fields=["status", "closed_at", "accepted_at", "accepted_by"])
        t.status, t.closed_at, t.assignee = tr.target, now, actor.user
        _save(t, now, "status", "closed_at", "assignee")
        _event(actor, t, "ticket.followed_up", note=note, hop=hop.pk if hop is not None else None)
    return t


# -- supervisors ---------------------------------------------------------------

REASSIGNABLE = frozenset(tr.source for tr in workflow.TRANSITIONS if tr.action == "reassign")


def can_reassign(actor: Actor, ticket: Ticket) -> bool:
    """A supervisor of the team holding the order, while it is being worked on."""
    return ticket.status in REASSIGNABLE and actor.in_team(ticket.holder_team_id, "ticket.supervise")


def ticket_reassign(*, actor: Actor, ticket: Ticket, to_team: Team, note: str, assignee_username: str = "",
                    version: int | None = None, now: datetime | None = None) -> Ticket:
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
            raise Forbidden("只有当前处理团队的班长可以改派。", "Only a supervisor of the holding team may reassign.",
                            code="not_holder_supervisor", details={"holder_team": t.holder_team.code})
        user = None
        if assignee_username:
            from kefu.org.models import Membership

            m = (Membership.objects.filter(team=to_team, user__username=assignee_username.strip(), is_active=True)
                 .select_related("user").first())
            if m is None:
                raise ValidationFailed("承办人不是目标团队的成员。", "The assignee is not a member of that team.",
                                       details=[{"field": "assignee"}])
            user = m.user
        from_team = t.holder_team
        if to_team.pk == from_team.pk:
            if user is None:
                raise ValidationFailed("团队内改派须指定承办人。", "Name the assignee to reassign within the team.",
                                       details=[{"field": "assignee", "type": "required"}])
            t.assignee = user
            _save(t, now, "assignee")
            _event(actor, t, "ticket.reassigned", within_team=True, to_team=from_team.code,
                   assignee=user.username, note=note)
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
            kind=t.kind, from_team_kind=first.kind, to_team_kind=to_team.kind, cited_article=t.kb_article_id is not None)
        hop = Hop.objects.create(ticket=t, from_team=from_team, to_team=to_team, sent_by=actor.user,
                                 reason_code=ReasonCode.REASSIGNED, note=note, off_rule=not called_for,
                                 created_at=now)
        sla.clock_start(owner_type=HOP, owner_id=hop.pk, kind="accept", ticket_kind=t.kind, team=to_team,
                        province=t.province, now=now, actor=actor)
        t.status, t.holder_team, t.assignee = tr.target, to_team, user
        fields = ["status", "holder_team", "assignee", "due_at"]
        if not called_for:
            t.off_rule_transfers += 1
            fields.append("off_rule_transfers")
        _refresh_due(t, now)
        _save(t, now, *fields)
        _event(actor, t, "ticket.reassigned", within_team=False, hop=hop.pk, from_team=from_team.code,
               to_team=to_team.code, assignee=user.username if user else None, off_rule=not called_for, note=note)
    return t


# -- notes ---------------------------------------------------------------------

def _participant_team(actor: Actor, t: Ticket) -> int:
    """A team of the actor that has handled this order (holder, first contact, or a hop end)."""
    mine = actor.team_ids_with("ticket.work")
    involved = {t.holder_team_id, t.first_contact_team_id}
    for from_id, to_id in Hop.objects.unscoped(_LOCK_WHY).filter(ticket=t).values_list("from_team_id", "to_team_id"):
        involved.update((from_id, to_id))
    for team_id in ([t.holder_team_id] + sorted(involved)):
        if team_id in mine:
            return team_id
    raise Forbidden("只有处理过该工单的团队成员可以添加备注或附件。",
                    "Only members of a team that handled the order may add notes or files.", code="not_participant")


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


ACTION_SERVICES: dict[str, Callable[..., Any]] = {
    "dispatch": ticket_dispatch,
    "accept": ticket_accept,
    "return": ticket_return,
    "return_result": ticket_return_result,
    "reply": ticket_reply,
    "await_customer": ticket_await_customer,
    "customer_responded": ticket_customer_responded,
    "resolve": ticket_resolve,
    "refer": ticket_refer,
    "record_acceptance": ticket_record_acceptance,
    "reopen": ticket_reopen,
    "close": ticket_close,
    "submit_to_province": ticket_submit_to_province,
    "follow_up": ticket_follow_up,
    "reassign": ticket_reassign,
}
