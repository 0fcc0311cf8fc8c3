"""Service-level report (第七条): on-time rates of complaint resolve clocks per team and province.

On-time rate = complaint orders resolved on time / complaint orders accepted
(decided) × 100%, target 98% (the policy's ``on_time_target``). A clock counts
in the month its outcome was decided, in Beijing time: a met clock when it
stopped, a late one when it went past its deadline (``breached_at``, else when
it stopped late). Clocks handed over to another team are not counted (the next
team's clock is). Reads ``kefu.sla`` clocks through the reader's scope.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.db.models.functions import Coalesce

from kefu.core.scope import Scope
from kefu.org.models import Province, Team
from kefu.sla import registry as sla_registry
from kefu.sla.models import Clock, ClockKind

from . import months

TARGET = Decimal("98")


@dataclass
class Rate:
    key: str
    label: str
    met: int = 0
    late: int = 0

    @property
    def decided(self) -> int:
        return self.met + self.late

    @property
    def rate(self) -> Decimal | None:
        if not self.decided:
            return None
        return (Decimal(self.met) * 100 / Decimal(self.decided)).quantize(Decimal("0.01"))

    @property
    def below_target(self) -> bool:
        return self.rate is not None and self.rate < TARGET


@dataclass
class LateOrder:
    clock_id: int
    label: str
    url: str
    team: str
    province: str
    due_at: object
    decided_at: object


@dataclass
class ServiceLevelReport:
    month: date
    overall: Rate
    by_team: list[Rate] = field(default_factory=list)
    by_province: list[Rate] = field(default_factory=list)
    late: list[LateOrder] = field(default_factory=list)
    target: Decimal = TARGET


def service_level(scope: Scope, month: date, *, late_limit: int = 500) -> ServiceLevelReport:
    start, end = months.bounds(month)
    decided_at = Coalesce("breached_at", "stopped_at")
    clocks = (
        Clock.objects.scoped(scope)
        .filter(kind=ClockKind.RESOLVE, ticket_kind="complaint")
        .annotate(decided_at=decided_at)
        .filter(
            (Q(outcome=Clock.Outcome.MET) & Q(stopped_at__gte=start) & Q(stopped_at__lt=end))
            | ((Q(outcome=Clock.Outcome.LATE) | Q(breached_at__isnull=False)) & ~Q(outcome=Clock.Outcome.HANDED_OVER)
               & Q(decided_at__gte=start) & Q(decided_at__lt=end))
        )
        .order_by()
    )
    rows = list(clocks.values("id", "team_id", "province_id", "outcome", "breached_at", "owner_type", "owner_id",
                              "due_at", "decided_at"))
    teams = {t.pk: t for t in Team.objects.filter(pk__in={r["team_id"] for r in rows})}
    provinces = {p.pk: p for p in Province.objects.all()}
    overall = Rate("all", "合计")
    by_team: dict[int, Rate] = {}
    by_province: dict[int | None, Rate] = {}
    late_rows = []
    for r in rows:
        is_late = r["outcome"] == Clock.Outcome.LATE or r["breached_at"] is not None
        team = teams[r["team_id"]]
        prov = provinces.get(r["province_id"])
        t_rate = by_team.setdefault(team.pk, Rate(team.code, team.name))
        p_rate = by_province.setdefault(r["province_id"], Rate(prov.slug if prov else "national",
                                                               prov.name if prov else "全国性团队"))
        for rate in (overall, t_rate, p_rate):
            if is_late:
                rate.late += 1
            else:
                rate.met += 1
        if is_late:
            late_rows.append(r)
    late_rows.sort(key=lambda r: (r["decided_at"], r["id"]))
    late_rows = late_rows[:late_limit]
    ids_by_type: dict[str, list[int]] = defaultdict(list)
    for r in late_rows:
        ids_by_type[r["owner_type"]].append(r["owner_id"])
    links = {t: sla_registry.owner_links(t, ids) for t, ids in ids_by_type.items()}
    late = []
    for r in late_rows:
        label, url = links.get(r["owner_type"], {}).get(r["owner_id"], (f"{r['owner_type']}#{r['owner_id']}", ""))
        prov = provinces.get(r["province_id"])
        late.append(LateOrder(r["id"], label, url, teams[r["team_id"]].name, prov.name if prov else "",
                              r["due_at"], r["decided_at"]))
    order = {p.pk: p.report_order for p in provinces.values()}
    return ServiceLevelReport(
        month=month,
        overall=overall,
        by_team=sorted(by_team.values(), key=lambda x: (x.rate if x.rate is not None else 101, x.key)),
        by_province=[by_province[k] for k in sorted(by_province, key=lambda k: order.get(k, -1) if k else -1)],
        late=late,
    )
