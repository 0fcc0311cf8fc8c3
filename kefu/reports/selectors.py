"""Scoped reads for the reports: the monthly table, the dashboard series.

Everything reads ``MonthlyCount`` (kept figures) through ``.scoped(reader_scope(actor))``;
the direct count over raw orders exists for tests and the benchmark only.
Which provinces a reader gets is decided once, in ``report_columns``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from kefu.chat import reporting as chat_reporting
from kefu.core.errors import NotFound
from kefu.core.scope import Scope
from kefu.org.models import Province
from kefu.org.selectors import provinces_in_scope
from kefu.tickets.models import Category, Kind, Ticket

from . import layout, months
from .layout import Column, MonthlyTable
from .models import MonthlyCount

SECTION_ROOT_CODE = "cf"  # the 投诉/故障 tree of the seeded taxonomy (tickets migration 0002)
COUNTED_KINDS = (Kind.COMPLAINT, Kind.FAULT)
KB_KINDS = (Kind.CONSULTATION, Kind.COMPLAINT)


def reader_scope(actor: Any, permission: str = "reports.view") -> Scope:
    """The provinces whose figures ``actor`` may read: those of the seats that hold ``permission`` only.

    ``actor.scope`` joins every seat; a Jiangsu supervisor who is also a hotline agent (a national seat
    without the report right) must get Jiangsu's figures, not the country's.
    """
    seats = actor.seats_with(permission)
    if not seats:
        return Scope.nothing()
    if any(s.province_id is None for s in seats):
        return Scope.everything()
    return Scope.provinces(s.province_id for s in seats if s.province_id is not None)


@dataclass(frozen=True)
class Audience:
    """Whose figures a reader gets: the columns and a label for titles and file names."""

    scope: Scope  # narrowed to the columns shown
    columns: list[Column]
    label: str  # 全国 / 江苏 …
    slug: str  # national / js …
    national: bool


def audience(scope: Scope, province_slug: str | None = None) -> Audience:
    """The columns a reader with ``scope`` sees, optionally narrowed to one province.

    A national reader sees 全国 then every province; asking for one province gives
    that province alone (what the province itself receives). A province reader
    sees its own province and no 全国 (第八条: 各省公司可以看到所属省状况). A
    province outside the scope, or one that does not exist, is the same NotFound.
    """
    if province_slug:
        province = Province.objects.filter(slug=province_slug).first()
        if province is None or not scope.covers(province.pk):
            raise NotFound()
        return Audience(
            Scope.provinces([province.pk]),
            [Column(province.slug, province.name, province.pk)],
            province.name,
            province.slug,
            False,
        )
    if scope.national:
        cols = [Column("national", layout.NATIONAL_LABEL, None)]
        cols += [Column(p.slug, p.name, p.pk) for p in Province.objects.order_by("report_order")]
        return Audience(scope, cols, layout.NATIONAL_LABEL, "national", True)
    provinces = list(provinces_in_scope(scope))
    if not provinces:
        raise NotFound()
    return Audience(
        scope,
        [Column(p.slug, p.name, p.pk) for p in provinces],
        "、".join(p.name for p in provinces),
        "-".join(p.slug for p in provinces),
        False,
    )


def section_categories(month: date, used_ids: set[int | None]) -> list[layout.CategoryNode]:
    """Level-2 and level-3 nodes under 投诉/故障 in force during ``month``, plus retired ones still counted."""
    start = month
    end = months.add_months(month, 1)
    in_force = Q(valid_from__lt=end) & (Q(valid_to__isnull=True) | Q(valid_to__gt=start))
    under_root = Q(level=2, parent__code=SECTION_ROOT_CODE) | Q(
        level=3, parent__parent__code=SECTION_ROOT_CODE
    )
    used = {i for i in used_ids if i is not None}
    nodes = list(Category.objects.filter(under_root & (in_force | Q(pk__in=used))))
    # A retired level-3 node still counted needs its group even if the group itself was retired.
    group_ids = {n.parent_id for n in nodes if n.level == 3}
    have = {n.pk for n in nodes}
    nodes += list(Category.objects.filter(pk__in=group_ids - have))
    groups = {n.pk: n for n in nodes if n.level == 2}
    out = []
    for n in nodes:
        if n.level == 2:
            out.append(layout.CategoryNode(n.pk, n.name, 2, None, (n.sort_order, n.pk, 0, 0)))
        else:
            g = groups.get(n.parent_id) if n.parent_id is not None else None
            if g is None:
                continue
            out.append(layout.CategoryNode(n.pk, n.name, 3, g.pk, (g.sort_order, g.pk, n.sort_order, n.pk)))
    return out


def _rollup(scope: Scope) -> QuerySet[MonthlyCount]:
    return MonthlyCount.objects.scoped(scope)


def monthly_table(aud: Audience, month: date) -> MonthlyTable:
    """The operator's table for ``month`` from the kept figures."""
    base = _rollup(aud.scope).filter(month=month).order_by()
    counts = {
        (r["province_id"], r["category_id"]): r["n"]
        for r in base.filter(kind__in=COUNTED_KINDS)
        .values("province_id", "category_id")
        .annotate(n=Sum("count"))
    }
    kb = {
        r["province_id"]: r["n"]
        for r in base.filter(kind__in=KB_KINDS, resolved_from_kb=True)
        .values("province_id")
        .annotate(n=Sum("count"))
    }
    kb = chat_reporting.add_kb_counts(kb, aud.scope, month)  # conversations answered from the knowledge base
    cats = section_categories(month, {c for _p, c in counts})
    return layout.build(month=month, categories=cats, columns=aud.columns, counts=counts, kb_counts=kb)


def monthly_table_direct(aud: Audience, month: date) -> MonthlyTable:
    """The same table by a GROUP BY over the raw work orders (tests and the benchmark compare the two)."""
    start, end = months.bounds(month)
    base = Ticket.objects.scoped(aud.scope).filter(created_at__gte=start, created_at__lt=end).order_by()
    counts = {
        (r["province_id"], r["category_id"]): r["n"]
        for r in base.filter(kind__in=COUNTED_KINDS)
        .values("province_id", "category_id")
        .annotate(n=Count("id"))
    }
    kb = {
        r["province_id"]: r["n"]
        for r in base.filter(kind__in=KB_KINDS, resolved_from_kb=True)
        .values("province_id")
        .annotate(n=Count("id"))
    }
    kb = chat_reporting.add_kb_counts(kb, aud.scope, month)
    cats = section_categories(month, {c for _p, c in counts})
    return layout.build(month=month, categories=cats, columns=aud.columns, counts=counts, kb_counts=kb)
