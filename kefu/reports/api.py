"""JSON API under /api/reports: the monthly table, the dashboard series, the service level, the outbox.

Same selectors and the same scope rules as the web pages.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from kefu.core.api import OneOf
from kefu.core.web import actor_of
from kefu.tickets.models import Channel, Kind

from . import dashboard, layout, months, selectors, service_level, services
from .models import MailStatus, OutboundMail

router = Router(tags=["reports"])


# YYYY-MM, 2000-2099 (months.parse_month), or "" for the default month.
MONTH = r"^(20[0-9]{2}-(0[1-9]|1[0-2]))?$"
ROW_KINDS = (layout.LEAF, layout.DIRECT, layout.SUBTOTAL, layout.UNCLASSIFIED, layout.TOTAL, layout.KB)


class MonthQuery(Schema):
    month: str | None = Field(None, pattern=MONTH, description="YYYY-MM")


class DashboardQuery(Schema):
    month_from: str | None = Field(None, pattern=MONTH, description="YYYY-MM")
    month_to: str | None = Field(None, pattern=MONTH, description="YYYY-MM")
    kind: Annotated[str, OneOf(Kind, blank=True)] | None = None
    channel: Annotated[str, OneOf(Channel, blank=True)] | None = None
    category: str | None = None
    province: str | None = None


class ColumnOut(Schema):
    key: str
    label: str


class RowOut(Schema):
    kind: Annotated[str, OneOf(ROW_KINDS)]
    level1: str
    level2: str
    level3: str
    values: list[int]


class MonthlyOut(Schema):
    month: str
    scope: str
    columns: list[ColumnOut]
    rows: list[RowOut]


def _actor(request: HttpRequest) -> Any:
    actor = actor_of(request)
    actor.require("reports.view")
    return actor


def _month(value: str | None) -> date:
    return months.parse_month(value, default=months.previous_month(timezone.now()))


def _monthly(request: HttpRequest, province: str | None, month: str | None) -> dict[str, Any]:
    actor = _actor(request)
    aud = selectors.audience(selectors.reader_scope(actor), province)
    table = selectors.monthly_table(aud, _month(month))
    return {"scope": aud.slug, **table.as_dict()}


@router.get("/monthly", response=MonthlyOut, summary="投诉/故障统计月报表(本人可见范围)")
def monthly(request: HttpRequest, q: Query[MonthQuery]) -> dict[str, Any]:
    return _monthly(request, None, q.month)


@router.get("/monthly/{province}", response=MonthlyOut, summary="投诉/故障统计月报表(单省)")
def monthly_province(request: HttpRequest, province: str, q: Query[MonthQuery]) -> dict[str, Any]:
    return _monthly(request, province, q.month)


class SeriesPoint(Schema):
    label: str
    value: int


class DashboardOut(Schema):
    month_from: str
    month_to: str
    trend: list[SeriesPoint]
    top_categories: list[SeriesPoint]
    province_ranking: list[SeriesPoint]


@router.get("/dashboard", response=DashboardOut, summary="统计看板数据")
def dashboard_data(request: HttpRequest, q: Query[DashboardQuery]) -> dict[str, Any]:
    scope = selectors.reader_scope(_actor(request))
    params = {k: v for k, v in q.dict().items() if v}
    f = dashboard.DashboardFilter.parse(params, scope=scope, today_month=months.month_of(timezone.now()))
    return {
        "month_from": months.key(f.first),
        "month_to": months.key(f.last),
        "trend": [{"label": months.key(m), "value": n} for m, n in dashboard.trend(scope, f)],
        "top_categories": [{"label": lb, "value": n} for lb, n in dashboard.top_categories(scope, f)],
        "province_ranking": [{"label": lb, "value": n} for lb, n in dashboard.province_ranking(scope, f)],
    }


class RateOut(Schema):
    key: str
    label: str
    met: int
    late: int
    rate: float | None
    below_target: bool


class LateOut(Schema):
    label: str
    team: str
    province: str


class ServiceLevelOut(Schema):
    month: str
    target: float
    overall: RateOut
    headline: list[RateOut]  # per rule group: province (48 h) and hotline/online (24 h), never one sum
    by_team: list[RateOut]
    by_province: list[RateOut]
    late: list[LateOut]


def _rate(r: service_level.Rate) -> dict[str, Any]:
    return {
        "key": r.key,
        "label": r.label,
        "met": r.met,
        "late": r.late,
        "rate": float(r.rate) if r.rate is not None else None,
        "below_target": r.below_target,
    }


@router.get("/service-level", response=ServiceLevelOut, summary="投诉工单处理及时率")
def service_level_data(request: HttpRequest, q: Query[MonthQuery]) -> dict[str, Any]:
    actor = _actor(request)
    month = _month(q.month)
    report = service_level.service_level(selectors.reader_scope(actor), month)
    return {
        "month": months.key(month),
        "target": float(report.target),
        "overall": _rate(report.overall),
        "headline": [_rate(r) for r in report.headline],
        "by_team": [_rate(r) for r in report.by_team],
        "by_province": [_rate(r) for r in report.by_province],
        "late": [{"label": o.label, "team": o.team, "province": o.province} for o in report.late],
    }


class MailOut(Schema):
    id: int
    month: str
    email: str
    province: str | None
    status: Annotated[str, OneOf(MailStatus)]
    attempts: int
    last_error: str


@router.get("/outbox", response=list[MailOut], summary="报表邮件发件箱(管理员)")
def outbox(request: HttpRequest) -> list[dict[str, Any]]:
    services.require_mail_admin(actor_of(request))
    rows = OutboundMail.objects.select_related("province").order_by("-month", "pk")[:500]
    return [
        {
            "id": m.pk,
            "month": months.key(m.month),
            "email": m.email,
            "province": m.province.slug if m.province else None,
            "status": m.status,
            "attempts": m.attempts,
            "last_error": m.last_error,
        }
        for m in rows
    ]
