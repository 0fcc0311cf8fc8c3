"""Calls API: the call log (filters as on the page), one call, the answer rates of a period — all scoped."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from kefu.core.api import OneOf
from kefu.core.errors import ValidationFailed
from kefu.core.web import actor_of

from . import selectors
from .models import Direction, Outcome

router = Router(tags=["calls"])
MAX_PAGE = 200


class CallOut(Schema):
    id: int
    call_id: str
    line: str
    province: str | None
    direction: Annotated[str, OneOf(Direction)]
    caller: str
    customer_id: int | None
    started_at: datetime | None
    request_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    agent: str | None
    agent_ref: str
    agent_unknown: bool
    outcome: Annotated[str, OneOf(Outcome)]
    answered_in_target: bool
    wait_seconds: int | None
    talk_seconds: int | None
    tickets: list[str]


class CallsQuery(Schema):
    line: str = ""
    date_from: date | None = None
    date_to: date | None = None
    outcome: Annotated[str, OneOf(Outcome, blank=True)] = ""
    q: str = ""
    agent: str = ""
    offset: int = Field(0, ge=0)
    limit: int = Field(50, ge=1, le=MAX_PAGE)


class RateRow(Schema):
    line: str
    name: str
    target_percent: float
    requests: int
    answered_in_20s: int
    rate: float | None
    met: bool | None
    answered: int
    abandoned: int
    abandon_rate: float | None
    asa_seconds: float | None
    requests_outside_hours: int


class CallRatesQuery(Schema):
    date_from: date
    date_to: date


def _actor(request: HttpRequest) -> Any:
    actor = actor_of(request)
    actor.require("calls.view")
    return actor


def _out(call: Any, tickets: list[str]) -> dict[str, Any]:
    return {
        "id": call.pk,
        "call_id": call.call_id,
        "line": call.line.code,
        "province": call.line.province.code if call.line.province_id else None,
        "direction": call.direction,
        "caller": call.caller or call.caller_raw,
        "customer_id": call.customer_id,
        "started_at": call.started_at,
        "request_at": call.request_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "agent": call.agent.username if call.agent_id else None,
        "agent_ref": call.agent_ref,
        "agent_unknown": call.agent_unknown,
        "outcome": call.outcome,
        "answered_in_target": call.answered_in_target,
        "wait_seconds": call.wait_seconds,
        "talk_seconds": call.talk_seconds,
        "tickets": tickets,
    }


@router.get("", response=list[CallOut], summary="通话记录 / Call log")
def call_list(request: HttpRequest, params: Query[CallsQuery]) -> list[dict[str, Any]]:
    actor = _actor(request)
    if not 1 <= params.limit <= MAX_PAGE or params.offset < 0:
        raise ValidationFailed(
            f"limit 须在 1 到 {MAX_PAGE} 之间，offset 不能为负。",
            f"limit must be 1 to {MAX_PAGE} and offset not negative.",
            fields=[{"field": "limit"}],
        )
    qs = selectors.call_list(
        actor.scope,
        line=params.line,
        day_from=params.date_from,
        day_to=params.date_to,
        outcome=params.outcome,
        q=params.q,
        agent=params.agent,
    )
    rows = list(qs.select_related("line__province")[params.offset : params.offset + params.limit])
    return [_out(c, []) for c in rows]


@router.get("/rates", response=list[RateRow], summary="20 秒接通率 / 20-second answer rates")
def rates(request: HttpRequest, params: Query[CallRatesQuery]) -> list[dict[str, Any]]:
    actor = _actor(request)
    if params.date_to < params.date_from or (params.date_to - params.date_from).days > 366:
        raise ValidationFailed(
            "统计区间无效（至多一年）。", "Invalid period (one year at most).", fields=[{"field": "date_to"}]
        )
    figures = selectors.rate_figures(
        actor.scope, start=params.date_from, end=params.date_to, with_slots=False
    )
    return [
        {
            "line": f.line.code,
            "name": f.line.name,
            "target_percent": f.target,
            "requests": f.total.offered,
            "answered_in_20s": f.total.answered_in_target,
            "rate": f.total.rate,
            "met": f.met,
            "answered": f.total.answered,
            "abandoned": f.total.abandoned,
            "abandon_rate": f.total.abandon_rate,
            "asa_seconds": f.total.asa,
            "requests_outside_hours": f.outside.offered,
        }
        for f in figures
    ]


@router.get("/{call_id}", response=CallOut, summary="一次通话 / One call")
def call_detail(request: HttpRequest, call_id: int) -> dict[str, Any]:
    actor = _actor(request)
    call = selectors.call_in_scope(actor.scope, call_id)
    tickets = [
        link.ticket.number for link in call.ticket_links.select_related("ticket").order_by("created_at")
    ]
    return _out(call, tickets)
