"""Service-level report (第七条): complaint on-time rates per team and province, and the late orders.

The rates are ``kefu.sla.rates.on_time_rates`` (the SLA app's own definition,
so the SLA dashboard and this report never disagree): each resolve clock of a
complaint order counts in the month it was accepted (Beijing time); on time =
stopped met; late = stopped late, or open and already past its deadline;
pending (open, not yet due) and handed-over clocks are not in the rate. Target:
the resolve policies' on-time target (98%). Read through the reader's scope.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.scope import Scope
from kefu.org.models import Province, Team
from kefu.sla import rates as sla_rates
from kefu.sla import registry as sla_registry
from kefu.sla.models import Clock, ClockKind

from . import months

TICKET_KIND = "complaint"


@dataclass
class Rate:
    key: str
    label: str
    met: int = 0
    late: int = 0
    pending: int = 0
    rate: float | None = None
    target: float = 98.0

    @property
    def decided(self) -> int:
        return self.met + self.late

    @property
    def below_target(self) -> bool:
        return self.rate is not None and self.rate < self.target


@dataclass
class LateOrder:
    clock_id: int
    label: str
    url: str
    team: str
    province: str
    due_at: datetime | None
    decided_at: datetime | None


@dataclass
class ServiceLevelReport:
    month: date
    overall: Rate
    by_team: list[Rate] = field(default_factory=list)
    by_province: list[Rate] = field(default_factory=list)
    late: list[LateOrder] = field(default_factory=list)
    target: Decimal = Decimal("98")
    headline: list[Rate] = field(default_factory=list)


def _rate(row: sla_rates.RateRow, key: str) -> Rate:
    return Rate(key, row.label, row.counts.on_time, row.counts.late, row.counts.pending, row.rate, row.target)


def service_level(
    scope: Scope, month: date, *, now: datetime | None = None, late_limit: int = 500
) -> ServiceLevelReport:
    now = now or timezone.now()
    target = sla_rates.policy_target(TICKET_KIND)
    teams = {t.pk: t for t in Team.objects.all()}
    provinces = {p.pk: p for p in Province.objects.all()}
    team_rows = sla_rates.on_time_rates(
        scope, month=month, now=now, group_by="team", ticket_kind=TICKET_KIND, target=target
    )
    province_rows = sla_rates.on_time_rates(
        scope, month=month, now=now, group_by="province", ticket_kind=TICKET_KIND, target=target
    )
    by_team = [_rate(r, teams[r.key].code if r.key in teams else str(r.key)) for r in team_rows]
    # The headline per rule (第七条(二)): the province's own teams (48 h) apart from the hotline/online (24 h).
    headline = []
    for key, label, national in (
        ("province", _("省公司处理及时率(48 小时)"), False),
        ("national", _("语音/在线客服处理及时率(24 小时)"), True),
    ):
        part = [r for r in team_rows if r.key in teams and (teams[r.key].province_id is None) == national]
        if part:
            m, lt, p = (
                sum(r.counts.on_time for r in part),
                sum(r.counts.late for r in part),
                sum(r.counts.pending for r in part),
            )
            headline.append(
                Rate(
                    key, str(label), m, lt, p, round(100 * m / (m + lt), 2) if m + lt else None, float(target)
                )
            )
    province_rows.sort(key=lambda r: provinces[r.key].report_order if r.key in provinces else -1)
    by_province = [
        _rate(r, provinces[r.key].slug if r.key in provinces else "national") for r in province_rows
    ]
    met, late, pending = (
        sum(r.met for r in by_team),
        sum(r.late for r in by_team),
        sum(r.pending for r in by_team),
    )
    overall = Rate(
        "all",
        "合计",
        met,
        late,
        pending,
        round(100 * met / (met + late), 2) if met + late else None,
        float(target),
    )

    start, end = months.bounds(month)
    rows = (
        list(
            Clock.objects.scoped(scope)
            .filter(
                kind=ClockKind.RESOLVE,
                ticket_kind=TICKET_KIND,
                started_at__gte=start,
                started_at__lt=min(now, end),
            )
            .exclude(outcome=Clock.Outcome.HANDED_OVER)
            .filter(sla_rates.late_q(now))  # the SLA app's one definition, so the list matches the rates
            .order_by("due_at", "id")
            .values(
                "id",
                "team_id",
                "province_id",
                "owner_type",
                "owner_id",
                "due_at",
                "breached_at",
                "stopped_at",
            )[:late_limit]
        )
        if late_limit
        else []
    )
    ids_by_type: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        ids_by_type[r["owner_type"]].append(r["owner_id"])
    links = {t: sla_registry.owner_links(t, ids) for t, ids in ids_by_type.items()}
    late_orders = []
    for r in rows:
        label, url = links.get(r["owner_type"], {}).get(
            r["owner_id"], (f"{r['owner_type']}#{r['owner_id']}", "")
        )
        prov = provinces.get(r["province_id"])
        late_orders.append(
            LateOrder(
                r["id"],
                label,
                url,
                teams[r["team_id"]].name,
                prov.name if prov else "",
                r["due_at"],
                r["breached_at"] or r["stopped_at"],
            )
        )
    return ServiceLevelReport(
        month=month,
        overall=overall,
        by_team=by_team,
        by_province=by_province,
        late=late_orders,
        target=target,
        headline=headline,
    )
