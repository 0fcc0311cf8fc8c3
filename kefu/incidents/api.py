"""Incident API under /api/incidents: declare, read, status, bulletins and receipts, links, bulk resolution, review.

Every operation fetches the incident through the actor's scope first (a
province the incident does not affect gets the 404 of a missing incident),
then calls one service; refusals come back in the one error shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status

from kefu.core.api import OneOf, StrictSchema, Text
from kefu.core.web import actor_of
from kefu.org.access import Actor
from kefu.sla.models import Clock
from kefu.tickets import selectors as ticket_selectors
from kefu.tickets.models import ReplyMethod

from . import bulk, contacts, review, selectors, services
from .models import BulkOutcome, Bulletin, ContactKind, ContactLink, Impact, Incident, Link
from .models import Status as IncidentStatus

router = Router(tags=["incidents"])


class IncidentOut(Schema):
    number: str
    title: str
    services: str
    impact: Annotated[str, OneOf(Impact)]
    status: Annotated[str, OneOf(IncidentStatus)]
    all_provinces: bool
    provinces: list[str]
    started_at: datetime
    detected_at: datetime
    declared_at: datetime
    hq_notified_at: datetime | None
    hq_seen_at: datetime | None
    symptoms: str
    measures: str
    workaround: str
    expected_recovery_at: datetime | None
    resolved_at: datetime | None
    resolution_text: str
    bulletin_version: int | None
    customer_script: str


class IncidentDeclareIn(StrictSchema):
    title: Annotated[str, Text(200)]
    services: Annotated[str, Text(300)]
    symptoms: Annotated[str, Text(5000)]
    impact: Annotated[str, OneOf(Impact)]
    started_at: datetime
    detected_at: datetime
    all_provinces: bool = False
    provinces: list[str] = []
    categories: list[str] = []
    measures: Annotated[str, Text(5000, blank=True)] = ""
    workaround: Annotated[str, Text(5000, blank=True)] = ""
    expected_recovery_at: datetime | None = None
    auto_link: bool = False
    auto_link_keywords: Annotated[str, Text(200, blank=True)] = ""


class IncidentStatusIn(StrictSchema):
    status: Annotated[str, OneOf(IncidentStatus)]
    note: str = ""
    resolution_text: str = ""


class IncidentBulletinIn(StrictSchema):
    customer_script: str
    agent_guidance: str


class IncidentBulletinOut(Schema):
    version: int
    customer_script: str
    agent_guidance: str
    issued_at: datetime


class IncidentReceiptOut(Schema):
    team: str
    province: str | None
    acknowledged_at: datetime | None


class IncidentLinkIn(StrictSchema):
    ticket: str


class IncidentLinkOut(Schema):
    id: int
    ticket: str
    province: str
    linked_at: datetime
    auto: bool
    bulk_outcome: Annotated[str, OneOf(BulkOutcome)]
    bulk_error: str
    # The order's latest resolve clock: its outcome, or its status while it runs ("" without a clock).
    sla_outcome: Annotated[str, OneOf([*Clock.Outcome.values, *Clock.Status.values])]


class IncidentContactIn(StrictSchema):
    kind: Literal["chat", "call"]
    id: int


class IncidentContactOut(Schema):
    id: int
    kind: Annotated[str, OneOf(ContactKind)]
    contact_id: int
    province: str | None  # None: the national hotline or online team
    contact_at: datetime
    linked_at: datetime


class IncidentBulkIn(StrictSchema):
    method: Annotated[str, OneOf(ReplyMethod)] = ReplyMethod.SMS


class IncidentBulkOut(Schema):
    done: int
    already: int
    failed: list[dict[str, str]]
    queued: int = 0  # more than bulk.INLINE_LIMIT orders: handed to the background run, counts then 0


class IncidentReviewOut(Schema):
    number: str
    total: int
    per_province: dict[str, int]
    per_province_hour: dict[str, dict[str, int]]
    to_notify_min: float | None
    to_mail_min: float | None
    to_hq_seen_min: float | None
    to_relay_min: float | None
    sla: dict[str, int]
    acks: list[dict[str, Any]]
    chats: int  # linked conversations the reader may see
    calls: int  # linked calls the reader may see


def _actor(request: HttpRequest) -> Actor:
    return actor_of(request)


def _get(request: HttpRequest, number: str) -> Incident:
    actor = _actor(request)
    actor.require("incident.view")
    return selectors.incident_by_number(actor.scope, number)


def _out(inc: Incident) -> dict[str, Any]:
    b = selectors.current_bulletin(inc)
    return {
        **{
            f: getattr(inc, f)
            for f in (
                "number",
                "title",
                "services",
                "impact",
                "status",
                "all_provinces",
                "started_at",
                "detected_at",
                "declared_at",
                "hq_notified_at",
                "hq_seen_at",
                "symptoms",
                "measures",
                "workaround",
                "expected_recovery_at",
                "resolved_at",
                "resolution_text",
            )
        },
        "provinces": [p.slug for p in inc.provinces.order_by("report_order")],
        "bulletin_version": b.version if b else None,
        "customer_script": b.customer_script if b else "",
    }


def _bulletin_out(b: Bulletin) -> dict[str, Any]:
    return {
        "version": b.version,
        "customer_script": b.customer_script,
        "agent_guidance": b.agent_guidance,
        "issued_at": b.issued_at,
    }


def _link_out(link: Link) -> dict[str, Any]:
    return {
        "id": link.pk,
        "ticket": link.ticket.number,
        "province": link.province.slug,
        "linked_at": link.linked_at,
        "auto": link.auto,
        "bulk_outcome": link.bulk_outcome,
        "bulk_error": link.bulk_error,
        "sla_outcome": link.sla_outcome,
    }


@router.get(
    "", response=list[IncidentOut], summary="事件列表(本省受影响的) / Incidents visible to the caller"
)
def incident_list(request: HttpRequest, open_only: bool = False) -> list[dict[str, Any]]:
    actor = _actor(request)
    actor.require("incident.view")
    qs = selectors.open_incidents(actor.scope) if open_only else selectors.visible(actor.scope)
    return [_out(i) for i in qs.order_by("-declared_at")[:100]]


@router.post("", response={201: IncidentOut}, summary="宣告事件 / Declare an incident (HQ notified at once)")
def incident_declare(request: HttpRequest, payload: IncidentDeclareIn) -> Status:
    p = payload
    inc = services.incident_declare(
        actor=_actor(request),
        title=p.title,
        services=p.services,
        symptoms=p.symptoms,
        impact=p.impact,
        started_at=p.started_at,
        detected_at=p.detected_at,
        all_provinces=p.all_provinces,
        province_slugs=p.provinces,
        category_codes=p.categories,
        measures=p.measures,
        workaround=p.workaround,
        expected_recovery_at=p.expected_recovery_at,
        auto_link=p.auto_link,
        auto_link_keywords=p.auto_link_keywords,
    )
    return Status(201, _out(inc))


@router.get("/{number}", response=IncidentOut, summary="事件 / An incident")
def incident_get(request: HttpRequest, number: str) -> dict[str, Any]:
    return _out(_get(request, number))


@router.post("/{number}/status", response=IncidentOut, summary="变更状态 / Move the incident's status")
def incident_status(request: HttpRequest, number: str, payload: IncidentStatusIn) -> dict[str, Any]:
    inc = services.incident_set_status(
        actor=_actor(request),
        incident=_get(request, number),
        status=payload.status,
        note=payload.note,
        resolution_text=payload.resolution_text,
    )
    return _out(inc)


@router.post(
    "/{number}/bulletins",
    response={201: IncidentBulletinOut},
    summary="下发通报 / Issue (or change) the bulletin",
)
def bulletin_issue(request: HttpRequest, number: str, payload: IncidentBulletinIn) -> Status:
    b = services.bulletin_issue(
        actor=_actor(request),
        incident=_get(request, number),
        customer_script=payload.customer_script,
        agent_guidance=payload.agent_guidance,
    )
    return Status(201, _bulletin_out(b))


@router.get(
    "/{number}/bulletins/current/receipts",
    response=list[IncidentReceiptOut],
    summary="当前通报的回执 / Receipts of the current bulletin (own province for a province)",
)
def receipts(request: HttpRequest, number: str) -> list[dict[str, Any]]:
    inc = _get(request, number)
    b = selectors.current_bulletin(inc)
    if b is None:
        return []
    return [
        {
            "team": r.team.code,
            "province": r.province.slug if r.province else None,
            "acknowledged_at": r.acknowledged_at,
        }
        for r in selectors.receipts(b, _actor(request).scope)
    ]


@router.post(
    "/{number}/bulletins/{version}/ack",
    response=IncidentReceiptOut,
    summary="确认收到通报 / Acknowledge the bulletin for one's team",
)
def bulletin_ack(request: HttpRequest, number: str, version: int) -> dict[str, Any]:
    inc = _get(request, number)
    r = services.receipt_acknowledge(
        actor=_actor(request), bulletin=selectors.bulletin_by_version(inc, version)
    )
    return {
        "team": r.team.code,
        "province": r.province.slug if r.province else None,
        "acknowledged_at": r.acknowledged_at,
    }


@router.get(
    "/{number}/links",
    response=list[IncidentLinkOut],
    summary="关联工单(本省) / Linked orders in the caller's scope",
)
def links(request: HttpRequest, number: str) -> list[dict[str, Any]]:
    inc = _get(request, number)
    return [_link_out(link) for link in selectors.links(inc, _actor(request).scope)[:1000]]


def _contact_out(link: ContactLink) -> dict[str, Any]:
    return {
        "id": link.pk,
        "kind": link.kind,
        "contact_id": link.conversation_id or link.call_id,
        "province": link.province.slug if link.province else None,
        "contact_at": link.contact_at,
        "linked_at": link.linked_at,
    }


@router.get(
    "/{number}/contacts",
    response=list[IncidentContactOut],
    summary="关联的在线会话与通话(本省) / Linked chats and calls in the caller's scope",
)
def contact_list(request: HttpRequest, number: str) -> list[dict[str, Any]]:
    inc = _get(request, number)
    return [_contact_out(c) for c in contacts.contact_links(inc, _actor(request).scope)[:1000]]


@router.post(
    "/{number}/contacts",
    response={201: IncidentContactOut},
    summary="关联在线会话或通话 / Link a chat or a call",
)
def contact_create(request: HttpRequest, number: str, payload: IncidentContactIn) -> Status:
    actor = _actor(request)
    inc = _get(request, number)
    link = contacts.contact_link_create(actor=actor, incident=inc, kind=payload.kind, contact_id=payload.id)
    return Status(201, _contact_out(contacts.contact_link_by_id(actor.scope, inc, link.pk)))


@router.post("/{number}/links", response={201: IncidentLinkOut}, summary="关联工单 / Link an order")
def link_create(request: HttpRequest, number: str, payload: IncidentLinkIn) -> Status:
    actor = _actor(request)
    inc = _get(request, number)
    ticket = ticket_selectors.ticket_by_number(actor, payload.ticket)
    link = services.link_create(actor=actor, incident=inc, ticket=ticket)
    return Status(201, _link_out(selectors.link_by_id(actor.scope, inc, link.pk)))


@router.post(
    "/{number}/bulk-resolve",
    response=IncidentBulkOut,
    summary="批量答复并办结关联工单 / Bulk reply and resolution (409 when already done)",
)
def bulk_resolve(request: HttpRequest, number: str, payload: IncidentBulkIn) -> dict[str, Any]:
    rep = bulk.bulk_request(actor=_actor(request), incident=_get(request, number), method=payload.method)
    if isinstance(rep, int):
        return {"done": 0, "already": 0, "failed": [], "queued": rep}
    return {"done": rep.done, "already": rep.already, "failed": rep.failed, "queued": 0}


@router.get("/{number}/review", response=IncidentReviewOut, summary="复盘报告数据 / Review report figures")
def review_get(request: HttpRequest, number: str) -> dict[str, Any]:
    actor = _actor(request)
    actor.require("incident.review")
    inc = _get(request, number)
    rep = review.build(inc, actor.scope)
    return {
        "number": inc.number,
        "total": rep.total,
        "per_province": rep.per_province,
        "per_province_hour": rep.per_province_hour,
        "to_notify_min": rep.to_notify_min,
        "to_mail_min": rep.to_mail_min,
        "to_hq_seen_min": rep.to_hq_seen_min,
        "to_relay_min": rep.to_relay_min,
        "sla": rep.sla,
        "chats": rep.chats,
        "calls": rep.calls,
        "acks": [
            {**a, "acknowledged_at": a["acknowledged_at"].isoformat() if a["acknowledged_at"] else None}
            for a in rep.acks
        ],
    }
