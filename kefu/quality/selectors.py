"""Scoped reads: lists and the monthly report (per agent, team, province; violations; blocked phrases)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, QuerySet

from kefu.norms.models import Category, Screening
from kefu.org.access import Actor
from kefu.org.models import Province

from .models import Inspection, Status
from .services import month_bounds


def inspections(actor: Actor, *, month: date | None = None, status: str = "") -> QuerySet[Inspection]:
    """Inspectors see their scope; everyone else only their own."""
    if actor.can("quality.inspect"):
        qs = Inspection.objects.scoped(actor.scope)
    else:
        qs = Inspection.objects.unscoped("an agent's own inspections").filter(agent=actor.user)
    if month is not None:
        qs = qs.filter(month=month.replace(day=1))
    if status in Status.values:
        qs = qs.filter(status=status)
    return qs.select_related("agent", "team", "province", "inspector")


@dataclass(frozen=True)
class Row:
    label: str
    count: int
    final: int
    average: Decimal | None


def _rows(qs: QuerySet[Inspection], key: str, label_of: Any) -> list[Row]:
    out = []
    for r in qs.values(key).annotate(n=Count("id")).order_by(key):
        final = qs.filter(**{key: r[key]}, status=Status.FINAL)
        avg = final.aggregate(a=Avg("final_score"))["a"]
        out.append(
            Row(
                label_of(r[key]),
                r["n"],
                final.count(),
                Decimal(avg).quantize(Decimal("0.1")) if avg is not None else None,
            )
        )
    return out


def report(actor: Actor, month: date) -> dict[str, Any]:
    """The month's figures for the actor's scope (final scores only in the averages)."""
    qs = Inspection.objects.scoped(actor.scope).filter(month=month.replace(day=1))
    from kefu.org.models import Team, User

    users = {u.pk: (u.display_name or u.username) for u in User.objects.filter(pk__in=qs.values("agent"))}
    teams = {t.pk: t.name for t in Team.objects.filter(pk__in=qs.values("team"))}
    provinces = {p.pk: p.name for p in Province.objects.all()}
    start, end = month_bounds(month)
    screenings = Screening.objects.filter(at__gte=start, at__lt=end)
    if not actor.scope.national:
        codes = list(Province.objects.filter(pk__in=actor.scope.province_ids).values_list("code", flat=True))
        screenings = screenings.filter(province_code__in=codes)
    by_category: Counter[tuple[str, str]] = Counter()
    blocked: Counter[str] = Counter()
    for s in screenings.only("hits", "outcome"):
        for h in s.hits:
            by_category[(str(h.get("category", "")), str(h.get("severity", "")))] += 1
            if h.get("severity") == "block":
                blocked[h.get("pattern", "")] += 1
    labels = dict(Category.choices)
    return {
        "by_agent": _rows(qs, "agent", lambda k: users.get(k, str(k))),
        "by_team": _rows(qs, "team", lambda k: teams.get(k, str(k))),
        "by_province": _rows(qs, "province", lambda k: provinces.get(k, "") if k else "全国团队"),
        "violations": [
            (str(labels.get(c, c)), sev, n)
            for (c, sev), n in sorted(by_category.items(), key=lambda x: -x[1])
        ],
        "top_blocked": blocked.most_common(10),
        "total": qs.count(),
    }
