"""Dashboard series from the kept figures: month trend, top categories, province ranking.

Filters are parsed and checked in one place (``DashboardFilter.parse``); the
province filter is one more narrowing of the reader's scope, never a widening.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet, Sum

from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.scope import Scope
from kefu.org.models import Province
from kefu.reports.codes import ReportCode
from kefu.tickets.models import Category, Channel, Kind

from . import months
from .models import MonthlyCount

MAX_MONTHS = 36


@dataclass(frozen=True)
class DashboardFilter:
    first: date
    last: date
    kind: str = ""
    channel: str = ""
    category: Category | None = None
    province: Province | None = None

    @classmethod
    def parse(cls, params: Any, *, scope: Scope, today_month: date) -> DashboardFilter:
        # The current month included (month to date): a range ending last month hid it (issue #14 item 13).
        last = months.parse_month(params.get("month_to"), default=today_month)
        first = months.parse_month(params.get("month_from"), default=months.add_months(last, -11))
        if first > last:
            first, last = last, first
        if len(months.month_range(first, last)) > MAX_MONTHS:
            raise ValidationFailed(
                f"月份范围最多 {MAX_MONTHS} 个月。",
                f"At most {MAX_MONTHS} months.",
                code=ReportCode.RANGE_TOO_LONG,
            )
        kind = params.get("kind") or ""
        if kind and kind not in Kind.values:
            raise ValidationFailed("工单类型无效。", "Unknown kind.", code=ReportCode.INVALID_KIND)
        channel = params.get("channel") or ""
        if channel and channel not in Channel.values:
            raise ValidationFailed("受理渠道无效。", "Unknown channel.", code=ReportCode.INVALID_CHANNEL)
        category = None
        if params.get("category"):
            category = Category.objects.filter(code=params.get("category")).first()
            if category is None:
                raise ValidationFailed("分类无效。", "Unknown category.", code=ReportCode.INVALID_CATEGORY)
        province = None
        if params.get("province"):
            province = Province.objects.filter(slug=params.get("province")).first()
            if province is None or not scope.covers(province.pk):
                raise NotFound()
        return cls(first, last, kind, channel, category, province)

    def query(self) -> dict[str, str]:
        q = {"month_from": months.key(self.first), "month_to": months.key(self.last)}
        if self.kind:
            q["kind"] = self.kind
        if self.channel:
            q["channel"] = self.channel
        if self.category:
            q["category"] = self.category.code
        if self.province:
            q["province"] = self.province.slug
        return q


def _base(scope: Scope, f: DashboardFilter) -> QuerySet[MonthlyCount]:
    qs = MonthlyCount.objects.scoped(scope).filter(month__gte=f.first, month__lte=f.last).order_by()
    if f.province is not None:
        qs = qs.filter(province=f.province)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.category is not None:
        c = f.category
        qs = qs.filter(Q(category=c) | Q(category__parent=c) | Q(category__parent__parent=c))
    return qs


def trend(scope: Scope, f: DashboardFilter) -> list[tuple[date, int]]:
    got = {r["month"]: r["n"] for r in _base(scope, f).values("month").annotate(n=Sum("count"))}
    return [(m, got.get(m, 0)) for m in months.month_range(f.first, f.last)]


def top_categories(scope: Scope, f: DashboardFilter, limit: int = 10) -> list[tuple[str, int]]:
    rows = list(
        _base(scope, f)
        .filter(category__isnull=False)
        .values("category_id")
        .annotate(n=Sum("count"))
        .order_by("-n", "category_id")[:limit]
    )
    cats = {
        c.pk: c
        for c in Category.objects.filter(pk__in=[r["category_id"] for r in rows]).select_related(
            "parent__parent"
        )
    }
    return [(cats[r["category_id"]].path, r["n"]) for r in rows]


def province_ranking(scope: Scope, f: DashboardFilter) -> list[tuple[str, int]]:
    rows = _base(scope, f).values("province_id").annotate(n=Sum("count"))
    got = {r["province_id"]: r["n"] for r in rows}
    provinces = Province.objects.order_by("report_order")
    if not scope.national:
        provinces = provinces.filter(pk__in=scope.province_ids)
    if f.province is not None:
        provinces = provinces.filter(pk=f.province.pk)
    ranked = [(p.name, got.get(p.pk, 0), p.report_order) for p in provinces]
    ranked.sort(key=lambda x: (-x[1], x[2]))
    return [(name, n) for name, n, _o in ranked]
