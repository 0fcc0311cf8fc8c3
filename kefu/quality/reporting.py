"""Quality figures for the reports app: the dashboard panel and the monthly Excel's (so the mail's) sheet.

Scoped like everything in reports: a province scope sees its own desk's inspections and screenings;
the national teams' inspections (no province) are counted in national scopes only. Averages are of
final scores (acknowledged, or decided after an appeal); the clause figures are of every scored
inspection (the inspector's points, before any appeal).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Q, Sum
from django.utils.translation import gettext as _

from kefu.core.scope import Scope
from kefu.norms.models import Category, Screening
from kefu.org.models import Province

from .models import Inspection, ItemScore, ScoreItem, Status
from .services import month_bounds


@dataclass(frozen=True)
class Clause:
    code: str
    title: str
    scored: int  # inspections that scored this item
    lost_percent: Decimal | None  # points lost / points possible, over those inspections


@dataclass(frozen=True)
class QualitySummary:
    inspected: int  # sampled in the period
    scored: int  # scored (waiting for the agent, under appeal, or final)
    final: int
    average: Decimal | None  # of final scores
    appeals: int  # appealed (open or decided)
    appeals_open: int
    clauses: list[Clause] = field(default_factory=list)
    violations: list[tuple[str, str, int]] = field(default_factory=list)  # category label, severity, hits
    top_blocked: list[tuple[str, int]] = field(default_factory=list)


def summary(scope: Scope, first: date, last: date) -> QualitySummary:
    """Inspections of the months ``first``..``last`` (any day in them) and the phrase-check hits of that time."""
    months = (first.replace(day=1), last.replace(day=1))
    qs = Inspection.objects.scoped(scope).filter(month__gte=months[0], month__lte=months[1])
    counts = qs.aggregate(
        inspected=Count("id"),
        scored=Count("id", filter=~Q(status=Status.PENDING)),
        final=Count("id", filter=Q(status=Status.FINAL)),
        appeals=Count("id", filter=Q(appealed_at__isnull=False)),
        appeals_open=Count("id", filter=Q(status=Status.APPEALED)),
        average=Avg("final_score", filter=Q(status=Status.FINAL)),
    )
    avg = counts.pop("average")
    per_item = (
        ItemScore.objects.scoped(scope)
        .filter(inspection__in=qs.exclude(status=Status.PENDING))
        .values("item")
        .annotate(n=Count("id"), got=Sum("points"), possible=Sum("weight"))
    )
    items = {i.pk: i for i in ScoreItem.objects.all()}
    clauses = []
    for row in per_item:
        item = items[row["item"]]
        possible = Decimal(row["possible"] or 0)
        lost = None
        if possible:
            lost = ((possible - Decimal(row["got"] or 0)) * 100 / possible).quantize(Decimal("0.1"))
        clauses.append(Clause(item.code, item.title, row["n"], lost))
    order = {i.code: i.order for i in items.values()}
    clauses.sort(key=lambda c: (order.get(c.code, 0), c.code))
    violations, blocked = _screenings(scope, months[0], months[1])
    return QualitySummary(
        average=Decimal(avg).quantize(Decimal("0.1")) if avg is not None else None,
        clauses=clauses,
        violations=violations,
        top_blocked=blocked,
        **counts,
    )


def _screenings(
    scope: Scope, first: date, last: date
) -> tuple[list[tuple[str, str, int]], list[tuple[str, int]]]:
    start, _end = month_bounds(first)
    _start, end = month_bounds(last)
    screenings = Screening.objects.filter(at__gte=start, at__lt=end)
    if not scope.national:
        codes = list(Province.objects.filter(pk__in=scope.province_ids).values_list("code", flat=True))
        screenings = screenings.filter(province_code__in=codes)
    by_category: Counter[tuple[str, str]] = Counter()
    blocked: Counter[str] = Counter()
    for hits in screenings.values_list("hits", flat=True).iterator():
        for h in hits or []:
            by_category[(str(h.get("category", "")), str(h.get("severity", "")))] += 1
            if h.get("severity") == "block":
                blocked[str(h.get("pattern", ""))] += 1
    labels = dict(Category.choices)
    violations = [
        (str(labels.get(c, c)), sev, n)
        for (c, sev), n in sorted(by_category.items(), key=lambda x: (-x[1], x[0]))
    ]
    return violations, blocked.most_common(10)


def add_month_sheet(wb: Any, scope: Scope, month: date) -> None:
    """The monthly Excel's (and so the monthly mail's) 质检 sheet, for the reader's scope."""
    s = summary(scope, month, month)
    bold = wb.add_format({"bold": True})
    ws = wb.add_worksheet(_("服务质检"))
    ws.write_string(0, 0, _("服务质检 %(m)s(第五、六条；平均分为最终得分)") % {"m": f"{month:%Y-%m}"}, bold)
    rows: list[tuple[str, Any]] = [
        (_("抽检数"), s.inspected),
        (_("已评分"), s.scored),
        (_("已定分"), s.final),
        (_("平均得分"), s.average),
        (_("申诉"), s.appeals),
        (_("申诉待裁定"), s.appeals_open),
    ]
    for i, (label, value) in enumerate(rows, start=2):
        ws.write_string(i, 0, label, bold)
        if value is None:
            ws.write_string(i, 1, "—")
        else:
            ws.write_number(i, 1, float(value))
    r = len(rows) + 3
    ws.write_row(r, 0, [_("条款"), _("内容"), _("评分次数"), _("失分率(%)")], bold)
    for i, c in enumerate(s.clauses, start=r + 1):
        ws.write_row(i, 0, [c.code, c.title, c.scored])
        if c.lost_percent is None:
            ws.write_string(i, 3, "—")
        else:
            ws.write_number(i, 3, float(c.lost_percent))
    r += len(s.clauses) + 2
    ws.write_row(r, 0, [_("用语类别"), _("处理"), _("次数")], bold)
    for i, (label, sev, n) in enumerate(s.violations, start=r + 1):
        ws.write_row(i, 0, [label, sev, n])
    r += len(s.violations) + 2
    ws.write_row(r, 0, [_("被拦截最多的用语"), _("次数")], bold)
    for i, (pattern, n) in enumerate(s.top_blocked, start=r + 1):
        ws.write_row(i, 0, [pattern, n])
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 3, 12)
