"""SLA API: on-time rates, overdue and at-risk clocks, notices, policies and calendars (read only, scoped)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from kefu.core.api import OneOf
from kefu.core.web import actor_of
from kefu.org.models import Team

from . import rates as rates_mod
from . import selectors
from .models import Clock, ClockKind, Holiday, Notice, Policy
from .params import parse_group, parse_month
from .rates import GROUPS
from .selectors import ClockInfo

router = Router(tags=["sla"])

# ClockInfo.state: the running states, or the stopped clock's outcome ("stopped" when it has none).
CLOCK_STATES = ("overdue", "at_risk", "running", "paused", "stopped", *Clock.Outcome.values[1:])


class RatesQuery(Schema):
    month: str | None = Field(
        None, pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$", description="YYYY-MM (2000–2099)"
    )
    group: Annotated[str, OneOf(tuple(GROUPS))] | None = Field(
        None, description="team | province | ticket_kind"
    )
    ticket_kind: str = Field(
        "complaint", max_length=30, description="工单类型；空串表示全部 / '' = every kind"
    )


class SlaRateOut(Schema):
    key: str
    label: str
    accepted: int
    on_time: int
    late: int
    pending: int
    rate: float | None
    projected_rate: float | None
    projected_volume: int
    late_allowance: int
    target: float


class RatesOut(Schema):
    month: date
    group: Annotated[str, OneOf(tuple(GROUPS))]
    ticket_kind: str
    rows: list[SlaRateOut]


class ClockOut(Schema):
    id: int
    owner_type: str
    owner_id: int
    owner_label: str
    owner_url: str
    kind: Annotated[str, OneOf(ClockKind)]
    ticket_kind: str
    team: str
    province: str | None
    status: Annotated[str, OneOf(Clock.Status)]
    state: Annotated[str, OneOf(CLOCK_STATES)]
    started_at: datetime
    due_at: datetime | None
    service_seconds_left: int | None
    seconds_left: int | None


class NoticeOut(Schema):
    id: int
    kind: Annotated[str, OneOf(Notice.Kind)]
    clock_kind: Annotated[str, OneOf(ClockKind)]
    owner_type: str
    owner_id: int
    owner_label: str
    owner_url: str
    team: str
    province: str | None
    due_at: datetime
    created_at: datetime


class HoursOut(Schema):
    weekday: int
    opens: str
    closes: str


class CalendarOut(Schema):
    code: str
    name: str
    timezone: str
    observes_holidays: bool
    hours: list[HoursOut]


class HolidayOut(Schema):
    date: date
    kind: Annotated[str, OneOf(Holiday.Kind)]
    name: str


class CalendarsOut(Schema):
    calendars: list[CalendarOut]
    holidays: list[HolidayOut]


class PolicyOut(Schema):
    code: str
    name: str
    target: Annotated[str, OneOf(ClockKind)]
    ticket_kind: str
    team_kind: Annotated[str, OneOf(Team.Kind, blank=True)]
    duration_minutes: int
    counting: Annotated[str, OneOf(Policy.Counting)]
    calendar: str
    pause_statuses: list[str]
    warn_ratio: float
    on_time_target: float
    rule_ref: str


def _actor(request: HttpRequest) -> Any:
    actor = actor_of(request)
    actor.require("sla.view")
    return actor


def _clock_rows(infos: list[ClockInfo]) -> list[dict[str, Any]]:
    out = []
    for row in selectors.annotate_links(infos):
        c, info = row["clock"], row["info"]
        out.append(
            {
                "id": c.pk,
                "owner_type": c.owner_type,
                "owner_id": c.owner_id,
                "owner_label": row["label"],
                "owner_url": row["url"],
                "kind": c.kind,
                "ticket_kind": c.ticket_kind,
                "team": c.team.code,
                "province": c.province.code if c.province else None,
                "status": c.status,
                "state": info.state,
                "started_at": c.started_at,
                "due_at": c.due_at,
                "service_seconds_left": info.service_seconds_left,
                "seconds_left": info.seconds_left,
            }
        )
    return out


@router.get("/rates", response=RatesOut, summary="投诉工单解决及时率 / On-time rates")
def rates(request: HttpRequest, params: Query[RatesQuery]) -> dict[str, Any]:
    actor = _actor(request)
    now = timezone.now()
    month = parse_month(params.month, now)
    group = parse_group(params.group)
    rows = rates_mod.on_time_rates(
        actor.scope,
        month=month,
        now=now,
        group_by=group,
        ticket_kind=params.ticket_kind,
        where=selectors.visible(actor),
    )
    return {
        "month": month,
        "group": group,
        "ticket_kind": params.ticket_kind,
        "rows": [
            {
                "key": str(r.key),
                "label": r.label,
                "accepted": r.counts.accepted,
                "on_time": r.counts.on_time,
                "late": r.counts.late,
                "pending": r.counts.pending,
                "rate": r.rate,
                "projected_rate": r.projected_rate,
                "projected_volume": r.projected_volume,
                "late_allowance": r.late_allowance,
                "target": r.target,
            }
            for r in rows
        ],
    }


@router.get("/overdue", response=list[ClockOut], summary="已超时的时钟 / Overdue clocks")
def overdue(request: HttpRequest) -> list[dict[str, Any]]:
    actor = _actor(request)
    return _clock_rows(selectors.overdue(actor.scope, now=timezone.now(), where=selectors.visible(actor)))


@router.get("/at-risk", response=list[ClockOut], summary="即将超时的时钟 / Clocks at risk")
def at_risk(request: HttpRequest) -> list[dict[str, Any]]:
    actor = _actor(request)
    return _clock_rows(selectors.at_risk(actor.scope, now=timezone.now(), where=selectors.visible(actor)))


@router.get("/notices", response=list[NoticeOut], summary="时限提醒 / Warnings and breaches")
def notices(request: HttpRequest) -> list[dict[str, Any]]:
    actor = _actor(request)
    return [
        {
            "id": n.pk,
            "kind": n.kind,
            "clock_kind": n.clock_kind,
            "owner_type": n.owner_type,
            "owner_id": n.owner_id,
            "owner_label": row["label"],
            "owner_url": row["url"],
            "team": n.team.code,
            "province": n.province.code if n.province else None,
            "due_at": n.due_at,
            "created_at": n.created_at,
        }
        for row in selectors.notice_rows(selectors.notices_for(actor))
        for n in [row["notice"]]
    ]


@router.get("/policies", response=list[PolicyOut], summary="时限策略 / Policies")
def policies(request: HttpRequest) -> list[dict[str, Any]]:
    _actor(request)
    return [
        {
            "code": p.code,
            "name": p.name,
            "target": p.target,
            "ticket_kind": p.ticket_kind,
            "team_kind": p.team_kind,
            "duration_minutes": p.duration_minutes,
            "counting": p.counting,
            "calendar": p.calendar.code,
            "pause_statuses": list(p.pause_statuses or []),
            "warn_ratio": float(p.warn_ratio),
            "on_time_target": float(p.on_time_target),
            "rule_ref": p.rule_ref,
        }
        for p in selectors.policies_and_calendars()["policies"]
    ]


@router.get("/calendars", response=CalendarsOut, summary="服务日历与节假日 / Calendars and holidays")
def calendars(request: HttpRequest) -> dict[str, Any]:
    _actor(request)
    data = selectors.policies_and_calendars()
    return {
        "calendars": [
            {
                "code": c.code,
                "name": c.name,
                "timezone": c.timezone,
                "observes_holidays": c.observes_holidays,
                "hours": [
                    {
                        "weekday": h.weekday,
                        "opens": h.opens.strftime("%H:%M"),
                        "closes": h.closes.strftime("%H:%M"),
                    }
                    for h in c.hours.all()
                ],
            }
            for c in data["calendars"]
        ],
        "holidays": [{"date": h.date, "kind": h.kind, "name": h.name} for h in data["holidays"]],
    }
