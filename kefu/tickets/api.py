"""Work-order API: queues and filters, create (Idempotency-Key), detail, versioned edit, every workflow action.

Actions are ``POST /api/tickets/{number}/<action>``; each may carry the
``version`` the client saw, and a stale one gets 409 with what changed.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.renderers import JSONRenderer
from pydantic import Field, create_model

from kefu.core.api import OneOf, StrictSchema
from kefu.core.errors import ValidationFailed
from kefu.core.web import actor_of
from kefu.customers import selectors as customer_selectors
from kefu.customers.phones import try_normalize_phone
from kefu.org.models import Team

from . import attachments as attachment_services
from . import selectors, services, workflow
from .models import (
    AcceptanceOutcome,
    Channel,
    HopStatus,
    Kind,
    ReasonCode,
    ReferredTo,
    ReplyMethod,
    ReturnReason,
    Ticket,
    Topic,
)
from .models import Status as TicketStatus
from .selectors import QUEUES
from .services import create_sql
from .web_common import download_response

router = Router(tags=["tickets"])
_RENDERER = JSONRenderer()

# Closed sets of values: checked on input, published as enums in the OpenAPI document (#17.3).
KindStr = Annotated[str, OneOf(Kind)]
ChannelStr = Annotated[str, OneOf(Channel)]
StatusStr = Annotated[str, OneOf(TicketStatus)]
TopicOrBlank = Annotated[str, OneOf(Topic, blank=True)]
# What ticket_out's allowed_actions can list: the transition table's actions, and reassign.
ActionStr = Annotated[str, OneOf([*dict.fromkeys(t.action for t in workflow.TRANSITIONS), "reassign"])]
MAX_LIMIT = 200


# -- schemas ---------------------------------------------------------------------


class TeamRef(Schema):
    code: str
    name: str
    kind: Annotated[str, OneOf(Team.Kind)]


class TicketOut(Schema):
    number: str
    kind: KindStr
    topic: TopicOrBlank
    channel: ChannelStr
    status: StatusStr
    province: str
    customer_id: int
    customer_name: str
    contact_id: int | None
    caller_phone: str
    category: str | None
    category_path: str | None
    subject: str
    description: str
    first_contact_team: str
    first_contact_agent: str
    holder_team: str
    assignee: str | None
    referred_to: Annotated[str, OneOf(ReferredTo, blank=True)]
    acceptance_outcome: Annotated[str, OneOf(AcceptanceOutcome, blank=True)]
    resolution: str
    resolved_from_kb: bool
    kb_article_id: int | None
    off_rule_transfers: int
    due_at: datetime | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    version: int


class HopOut(Schema):
    id: int
    from_team: str
    to_team: str
    reason_code: Annotated[str, OneOf(ReasonCode)]
    note: str
    off_rule: bool
    requires_acceptance: bool
    status: Annotated[str, OneOf(HopStatus)]
    created_at: datetime
    accepted_at: datetime | None
    accepted_by: str | None
    returned_at: datetime | None
    return_reason: Annotated[str, OneOf(ReturnReason, blank=True)]
    return_note: str
    result: str


class ReplyOut(Schema):
    id: int
    team: str
    author: str | None
    method: Annotated[str, OneOf(ReplyMethod)]
    content: str
    replied_at: datetime


class NoteOut(Schema):
    id: int
    team: str
    author: str | None
    body: str
    created_at: datetime


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    created_at: datetime


class EventOut(Schema):
    at: datetime
    verb: str
    label: str
    actor: str
    data: dict[str, Any]


class TicketDetailOut(TicketOut):
    allowed_actions: list[ActionStr]
    hops: list[HopOut]
    replies: list[ReplyOut]
    notes: list[NoteOut]
    attachments: list[AttachmentOut]
    timeline: list[EventOut]


class TicketPage(Schema):
    items: list[TicketOut]
    offset: int
    limit: int
    has_more: bool


class ListQuery(Schema):
    queue: Annotated[str, OneOf(QUEUES)] = "all"
    kind: Annotated[str, OneOf(Kind, blank=True)] = ""
    status: Annotated[str, OneOf(TicketStatus, blank=True)] = ""
    category: str = ""
    channel: Annotated[str, OneOf(Channel, blank=True)] = ""
    province: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str = ""
    offset: int = Field(0, ge=0, le=100_000)
    limit: int = Field(50, ge=1, le=MAX_LIMIT)


class CreateIn(StrictSchema):
    kind: KindStr
    customer_id: int
    subject: str
    description: str = ""
    category: str | None = None
    topic: TopicOrBlank = ""
    contact_id: int | None = None
    caller_phone: str = ""
    team_code: str | None = None


class UpdateIn(StrictSchema):
    version: int
    subject: str | None = None
    description: str | None = None
    category: str | None = None
    topic: TopicOrBlank | None = None
    contact_id: int | None = None


class VersionIn(StrictSchema):
    version: int | None = None


class BodyIn(StrictSchema):
    body: str


class CategoryOut(Schema):
    code: str
    name: str
    path: str
    level: int
    valid_from: dt.date
    valid_to: dt.date | None


class LookupQuery(Schema):
    # A number in any form, or at least two characters of one (the lookup refuses less).
    phone: str = Field(max_length=40, pattern=r"\S[\s\S]*\S")


class LookupCustomer(Schema):
    id: int
    name: str
    account_number: str
    province: str
    open_orders: list[TicketOut]


# -- helpers ---------------------------------------------------------------------


def ticket_out(t: Ticket) -> dict[str, Any]:
    cat = t.category
    return {
        "number": t.number,
        "kind": t.kind,
        "topic": t.topic,
        "channel": t.channel,
        "status": t.status,
        "province": t.province.code,
        "customer_id": t.customer_id,
        "customer_name": t.customer.name,
        "contact_id": t.contact_id,
        "caller_phone": t.caller_phone,
        "category": cat.code if cat else None,
        "category_path": cat.path if cat else None,
        "subject": t.subject,
        "description": t.description,
        "first_contact_team": t.first_contact_team.code,
        "first_contact_agent": t.first_contact_agent.username,
        "holder_team": t.holder_team.code,
        "assignee": t.assignee.username if t.assignee else None,
        "referred_to": t.referred_to,
        "acceptance_outcome": t.acceptance_outcome,
        "resolution": t.resolution,
        "resolved_from_kb": t.resolved_from_kb,
        "kb_article_id": t.kb_article_id,
        "off_rule_transfers": t.off_rule_transfers,
        "due_at": t.due_at,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "resolved_at": t.resolved_at,
        "closed_at": t.closed_at,
        "version": t.version,
    }


def _user(u: Any) -> str | None:
    return u.username if u is not None else None


def detail_out(actor: Any, t: Ticket, *, created: services.Created | None = None) -> dict[str, Any]:
    from kefu.core.audit import timeline, verb_label

    if created is not None:
        # Just created: no children yet, and its timeline is the one event the service wrote and
        # handed back (saves six queries on the busiest write).
        events = [created.event] if created.event is not None else list(timeline(t))
        d: dict[str, Any] = {"hops": [], "replies": [], "notes": [], "attachments": [], "events": events}
    else:
        d = selectors.ticket_detail(actor, t, with_clocks=False)
    out = ticket_out(t)
    out["allowed_actions"] = workflow.ordered_actions(
        services.facts_of(t), services.actions_for(actor, t)
    ) + (["reassign"] if services.can_reassign(actor, t) else [])
    out["hops"] = [
        {
            "id": h.pk,
            "from_team": h.from_team.code,
            "to_team": h.to_team.code,
            "reason_code": h.reason_code,
            "note": h.note,
            "off_rule": h.off_rule,
            "requires_acceptance": h.requires_acceptance,
            "status": h.status,
            "created_at": h.created_at,
            "accepted_at": h.accepted_at,
            "accepted_by": _user(h.accepted_by),
            "returned_at": h.returned_at,
            "return_reason": h.return_reason,
            "return_note": h.return_note,
            "result": h.result,
        }
        for h in d["hops"]
    ]
    out["replies"] = [
        {
            "id": r.pk,
            "team": r.team.code,
            "author": _user(r.author),
            "method": r.method,
            "content": r.content,
            "replied_at": r.replied_at,
        }
        for r in d["replies"]
    ]
    out["notes"] = [
        {
            "id": n.pk,
            "team": n.team.code,
            "author": _user(n.author),
            "body": n.body,
            "created_at": n.created_at,
        }
        for n in d["notes"]
    ]
    out["attachments"] = [
        {
            "id": a.pk,
            "name": a.original_name,
            "content_type": a.content_type,
            "size": a.size,
            "created_at": a.created_at,
        }
        for a in d["attachments"]
    ]
    out["timeline"] = [
        {"at": e.at, "verb": e.verb, "label": verb_label(e.verb), "actor": e.actor_label, "data": e.data}
        for e in d["events"]
    ]
    return out


def _ticket(request: HttpRequest, number: str) -> Ticket:
    return selectors.ticket_by_number(actor_of(request), number)


def _after(request: HttpRequest, number: str) -> dict[str, Any]:
    return detail_out(actor_of(request), _ticket(request, number))


def _act(
    request: HttpRequest, number: str, version: int | None, action: Callable[..., object]
) -> dict[str, Any]:
    """Every order action: fetch through the scope, act (the service refuses a stale version under
    the row lock), answer with the detail."""
    # Who may act at all is answered first: a viewer learns nothing of articles or versions (403, not 404/409).
    actor_of(request).require("ticket.work")
    t = _ticket(request, number)
    action(actor_of(request), t, version)
    return _after(request, number)


# -- reading ---------------------------------------------------------------------


@router.get("", response=TicketPage, summary="工单队列与筛选 / Queues and filters")
def ticket_list(request: HttpRequest, params: Query[ListQuery]) -> dict[str, Any]:
    actor = actor_of(request)
    filters = selectors.Filters(
        kind=params.kind,
        status=params.status,
        category=params.category,
        channel=params.channel,
        province=params.province,
        date_from=params.date_from,
        date_to=params.date_to,
        q=params.q,
    )
    qs = selectors.queue(actor, params.queue, filters)
    rows, more = selectors.page(qs, offset=params.offset, limit=params.limit)
    return {
        "items": [ticket_out(t) for t in rows],
        "offset": params.offset,
        "limit": params.limit,
        "has_more": more,
    }


@router.get("/categories", response=list[CategoryOut], summary="在用末级分类 / Leaf categories in force")
def categories(request: HttpRequest, kind: KindStr = "complaint") -> list[dict[str, Any]]:
    return [
        {
            "code": c.code,
            "name": c.name,
            "path": c.path,
            "level": c.level,
            "valid_from": c.valid_from,
            "valid_to": c.valid_to,
        }
        for c in selectors.leaf_categories(kind)
    ]


@router.get("/lookup", response=list[LookupCustomer], summary="来电号码查客户与在办工单 / Caller lookup")
def lookup(request: HttpRequest, params: Query[LookupQuery]) -> list[dict[str, Any]]:
    actor = actor_of(request)
    actor.require("ticket.view")
    if try_normalize_phone(params.phone) is None and len(params.phone.strip()) < 2:
        raise ValidationFailed(
            "请输入来电号码或客户账号。", "Enter a phone or account number.", fields=[{"field": "phone"}]
        )
    out = []
    for c in customer_selectors.lookup(actor.scope, params.phone):
        out.append(
            {
                "id": c.pk,
                "name": c.name,
                "account_number": c.account_number,
                "province": c.province.code,
                "open_orders": [ticket_out(t) for t in selectors.open_orders_of(actor, c)],
            }
        )
    return out


@router.get("/{number}", response=TicketDetailOut, summary="工单详情 / Order detail")
def ticket_detail(request: HttpRequest, number: str) -> dict[str, Any]:
    return _after(request, number)


@router.get("/{number}/attachments/{attachment_id}", summary="下载附件 / Download an attachment")
def attachment_download(request: HttpRequest, number: str, attachment_id: int) -> FileResponse:
    actor = actor_of(request)
    t = _ticket(request, number)
    return download_response(selectors.attachment_in_scope(actor, t, attachment_id))


# -- writing ---------------------------------------------------------------------


@router.post(
    "",
    response={200: TicketDetailOut, 201: TicketDetailOut},
    summary="登记工单(支持 Idempotency-Key) / Create an order",
)
def ticket_create(request: HttpRequest, payload: CreateIn) -> HttpResponse | Status[dict[str, Any]]:
    actor = actor_of(request)
    actor.require("ticket.create")
    # The scoped customer with its province in one SELECT compiled once (issue #16.5: the ORM's compile
    # of the general selector was a quarter of a create's CPU).
    customer = create_sql.customer_in_scope(actor.scope, payload.customer_id)
    contact = None
    if payload.contact_id is not None:
        contact = customer_selectors.contact_in_scope(actor.scope, payload.contact_id)
    team = None
    if payload.team_code:
        from kefu.org.selectors import team_of_actor

        team = team_of_actor(actor, payload.team_code)
    phone = try_normalize_phone(payload.caller_phone) or "" if payload.caller_phone else ""
    result = services.ticket_create(
        actor=actor,
        kind=payload.kind,
        customer=customer,
        subject=payload.subject,
        description=payload.description,
        category=selectors.category_by_code(payload.category),
        topic=payload.topic,
        contact=contact,
        caller_phone=phone,
        team=team,
        idempotency_key=request.headers.get("Idempotency-Key"),
        fingerprint=services.request_fingerprint(payload.model_dump()),
    )
    if result.created:  # the objects are in hand: no second fetch
        # Built by this module from the objects just written, so not validated again through
        # TicketDetailOut (about a fifth of a create's CPU); rendered as ninja renders every answer.
        # test_api_flows holds the 201 body equal to a fresh GET's, which is validated.
        body = _RENDERER.render(
            request, detail_out(actor, result.ticket, created=result), response_status=201
        )
        return HttpResponse(body, status=201, content_type=f"{_RENDERER.media_type}; charset=utf-8")
    return Status(200, _after(request, result.ticket.number))


@router.patch("/{number}", response=TicketDetailOut, summary="修改工单(带版本号) / Edit with version")
def ticket_update(request: HttpRequest, number: str, payload: UpdateIn) -> dict[str, Any]:
    actor = actor_of(request)
    t = _ticket(request, number)
    changes: dict[str, Any] = {}
    for field in ("subject", "description", "topic"):
        value = getattr(payload, field)
        if value is not None:
            changes[field] = value
    if "category" in payload.model_fields_set:
        changes["category"] = selectors.category_by_code(payload.category)
    if "contact_id" in payload.model_fields_set:
        changes["contact"] = (
            customer_selectors.contact_in_scope(actor.scope, payload.contact_id)
            if payload.contact_id is not None
            else None
        )
    services.ticket_update(actor=actor, ticket=t, version=payload.version, **changes)
    return _after(request, number)


def _action_endpoint(action: services.Action) -> Callable[..., dict[str, Any]]:
    """One ``POST /api/tickets/{number}/<path>`` per row of ``services.ACTIONS``; its body schema
    (``<Name>In``: ``version`` and the row's params) is generated from the row too."""
    fields: dict[str, Any] = {
        p.name: (p.type, Field(... if p.required else p.default, description=p.description or None))
        for p in action.params
    }
    payload_model = create_model(f"{_camel(action.name)}In", __base__=VersionIn, **fields)

    def endpoint(request: HttpRequest, number: str, payload: Any) -> dict[str, Any]:
        return _act(
            request,
            number,
            payload.version,
            lambda actor, t, v: action.call(actor=actor, ticket=t, version=v, values=payload.model_dump()),
        )

    endpoint.__name__ = endpoint.__qualname__ = action.view_name or action.name  # the operation id stays
    signature = inspect.Signature(
        [
            inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=HttpRequest),
            inspect.Parameter("number", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str),
            inspect.Parameter("payload", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=payload_model),
        ],
        return_annotation=dict[str, Any],
    )
    endpoint.__signature__ = signature  # type: ignore[attr-defined]  # ninja reads the body schema from it
    return endpoint


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


for _action in services.ACTIONS:
    router.post(f"/{{number}}/{_action.path}", response=TicketDetailOut, summary=_action.summary)(
        _action_endpoint(_action)
    )


@router.post("/{number}/notes", response={201: NoteOut}, summary="内部备注 / Internal note")
def note_add(request: HttpRequest, number: str, payload: BodyIn) -> Status[dict[str, Any]]:
    t = _ticket(request, number)
    n = services.note_add(actor=actor_of(request), ticket=t, body=payload.body)
    return Status(
        201,
        {
            "id": n.pk,
            "team": n.team.code,
            "author": _user(n.author),
            "body": n.body,
            "created_at": n.created_at,
        },
    )


@router.post(
    "/{number}/attachments", response={201: AttachmentOut}, summary="上传附件 / Upload an attachment"
)
def attachment_upload(
    request: HttpRequest,
    number: str,
    file: UploadedFile | None = File(None),  # noqa: B008
) -> Status[dict[str, Any]]:
    t = _ticket(request, number)  # the order first: another province's gets the missing order's 404
    if file is None:
        raise ValidationFailed("请选择要上传的文件。", "Choose a file to upload.", fields=[{"field": "file"}])
    upload = attachment_services.Upload(
        name=file.name or "", content=file.read(attachment_services.MAX_BYTES + 1)
    )
    a = attachment_services.attachment_add(actor=actor_of(request), ticket=t, upload=upload)
    return Status(
        201,
        {
            "id": a.pk,
            "name": a.original_name,
            "content_type": a.content_type,
            "size": a.size,
            "created_at": a.created_at,
        },
    )
