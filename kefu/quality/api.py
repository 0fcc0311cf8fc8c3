"""Quality API: inspections in the actor's scope (an agent sees their own), score, acknowledge, appeal, decide.

Same rules as the pages (the services decide): an inspector scores and decides within their province
scope and never their own contacts; only the inspected agent acknowledges or appeals. ``version`` is
the inspection's version as read (409 when it changed since).
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import WithJsonSchema

from kefu.core.api import OneOf, StrictSchema, Text
from kefu.core.errors import ValidationFailed
from kefu.core.web import actor_of

from . import selectors, services
from .models import Inspection, Reason, Status

router = Router(tags=["quality"])
MAX_PAGE = 200
# What the month draw samples (services.Candidate kinds).
CONTACT_KINDS = ("ticket", "chat")
# YYYY-MM with a year 0001 to 9999 (what date.fromisoformat reads), or "" for every month.
MONTH_OR_BLANK = r"^(([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-(0[1-9]|1[0-2]))?$"


class InspectionItemOut(Schema):
    code: str
    title: str
    weight: int
    points: Decimal | None
    note: str


class InspectionOut(Schema):
    id: int
    contact_kind: Annotated[str, OneOf(CONTACT_KINDS)]
    contact_id: str
    contact_label: str
    month: dt.date
    agent: str
    team: str
    province: str | None
    reason: Annotated[str, OneOf(Reason)]
    status: Annotated[str, OneOf(Status)]
    inspector: str | None
    scored_at: datetime | None
    score: Decimal | None
    comment: str
    appeal_reason: str
    appealed_at: datetime | None
    decided_at: datetime | None
    decision_comment: str
    final_score: Decimal | None
    version: int


class InspectionDetailOut(InspectionOut):
    items: list[InspectionItemOut]


class InspectionsQuery(Schema):
    month: str = Field("", pattern=MONTH_OR_BLANK, description="YYYY-MM")
    status: Annotated[str, OneOf(Status, blank=True)] = ""
    offset: int = Field(0, ge=0)
    limit: int = Field(50, ge=1, le=MAX_PAGE)


def _score(maximum: int | None) -> Any:
    # A number in the document (pydantic publishes Decimal as "number or any string", and "" is no score).
    bounds = {"minimum": 0, **({"maximum": maximum} if maximum is not None else {})}
    return WithJsonSchema({"type": "number", **bounds})


class InspectionVersionIn(StrictSchema):
    version: int | None = None


class ScoreIn(InspectionVersionIn):
    points: dict[str, Annotated[Decimal, Field(ge=0), _score(None)]]  # item code -> 0 to the item's weight
    notes: dict[str, str] = {}
    comment: str = ""


class AppealIn(InspectionVersionIn):
    reason: Annotated[str, Text(2000)]


class DecideIn(InspectionVersionIn):
    final_score: Annotated[Decimal, Field(ge=0, le=100), _score(100)]
    comment: Annotated[str, Text()]


def _actor(request: HttpRequest) -> Any:
    actor = actor_of(request)
    actor.require("quality.view")
    return actor


def _month(value: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(f"{value}-01")
    except ValueError:
        raise ValidationFailed(
            "月份格式应为 YYYY-MM。", "month must be YYYY-MM.", fields=[{"field": "month"}]
        ) from None


def _out(ins: Inspection) -> dict[str, Any]:
    return {
        "id": ins.pk,
        "contact_kind": ins.contact_kind,
        "contact_id": ins.contact_id,
        "contact_label": ins.contact_label,
        "month": ins.month,
        "agent": ins.agent.username,
        "team": ins.team.code,
        "province": ins.province.code if ins.province is not None else None,
        "reason": ins.reason,
        "status": ins.status,
        "inspector": ins.inspector.username if ins.inspector is not None else None,
        "scored_at": ins.scored_at,
        "score": ins.score,
        "comment": ins.comment,
        "appeal_reason": ins.appeal_reason,
        "appealed_at": ins.appealed_at,
        "decided_at": ins.decided_at,
        "decision_comment": ins.decision_comment,
        "final_score": ins.final_score,
        "version": ins.version,
    }


def _detail(ins: Inspection) -> dict[str, Any]:
    scored = {s.item_id: s for s in ins.item_scores.all()}
    items = []
    for item in services.items_for(ins):
        s = scored.get(item.pk)
        items.append(
            {
                "code": item.code,
                "title": item.title,
                "weight": s.weight if s else item.weight,
                "points": s.points if s else None,
                "note": s.note if s else "",
            }
        )
    return {**_out(ins), "items": items}


@router.get("/inspections", response=list[InspectionOut], summary="质检列表 / Inspections")
def inspection_list(request: HttpRequest, params: Query[InspectionsQuery]) -> list[dict[str, Any]]:
    actor = _actor(request)
    if not 1 <= params.limit <= MAX_PAGE or params.offset < 0:
        raise ValidationFailed(
            f"limit 须在 1 到 {MAX_PAGE} 之间，offset 不能为负。",
            f"limit must be 1 to {MAX_PAGE} and offset not negative.",
            fields=[{"field": "limit"}],
        )
    qs = selectors.inspections(actor, month=_month(params.month), status=params.status)
    return [_out(i) for i in qs[params.offset : params.offset + params.limit]]


@router.get("/inspections/{inspection_id}", response=InspectionDetailOut, summary="一条质检 / One inspection")
def inspection_detail(request: HttpRequest, inspection_id: int) -> dict[str, Any]:
    return _detail(services.inspection_for(_actor(request), inspection_id))


@router.post("/inspections/{inspection_id}/score", response=InspectionDetailOut, summary="评分 / Score")
def inspection_score(request: HttpRequest, inspection_id: int, payload: ScoreIn) -> dict[str, Any]:
    actor = _actor(request)
    ins = services.inspection_score(
        actor=actor,
        inspection=services.inspection_for(actor, inspection_id),
        points={k: str(v) for k, v in payload.points.items()},
        notes=payload.notes,
        comment=payload.comment,
        version=payload.version,
    )
    return _detail(services.inspection_for(actor, ins.pk))


@router.post(
    "/inspections/{inspection_id}/acknowledge", response=InspectionDetailOut, summary="坐席确认 / Acknowledge"
)
def inspection_acknowledge(
    request: HttpRequest, inspection_id: int, payload: InspectionVersionIn
) -> dict[str, Any]:
    actor = _actor(request)
    ins = services.inspection_acknowledge(
        actor=actor, inspection=services.inspection_for(actor, inspection_id), version=payload.version
    )
    return _detail(services.inspection_for(actor, ins.pk))


@router.post("/inspections/{inspection_id}/appeal", response=InspectionDetailOut, summary="申诉 / Appeal")
def inspection_appeal(request: HttpRequest, inspection_id: int, payload: AppealIn) -> dict[str, Any]:
    actor = _actor(request)
    ins = services.inspection_appeal(
        actor=actor,
        inspection=services.inspection_for(actor, inspection_id),
        reason=payload.reason,
        version=payload.version,
    )
    return _detail(services.inspection_for(actor, ins.pk))


@router.post("/inspections/{inspection_id}/decide", response=InspectionDetailOut, summary="裁定申诉 / Decide")
def inspection_decide(request: HttpRequest, inspection_id: int, payload: DecideIn) -> dict[str, Any]:
    actor = _actor(request)
    ins = services.inspection_decide(
        actor=actor,
        inspection=services.inspection_for(actor, inspection_id),
        final_score=str(payload.final_score),
        comment=payload.comment,
        version=payload.version,
    )
    return _detail(services.inspection_for(actor, ins.pk))
