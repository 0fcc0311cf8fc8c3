"""Scoped reads of incidents.

An incident is national; a province sees the incidents that affect it (all
provinces, or its own among them). Linked orders and receipts are
province-owned and always read through ``.scoped(scope)``. Single incidents are
fetched by number and give the same ``NotFound`` whether missing or unseen.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from kefu.core.errors import NotFound
from kefu.core.scope import Scope
from kefu.org.models import Province
from kefu.tickets.models import OPEN_STATUS_VALUES, Kind, Ticket

from . import workflow
from .models import Bulletin, Incident, Link, Receipt

RELATED_KINDS = (Kind.COMPLAINT, Kind.FAULT, Kind.CONSULTATION)
OPEN = sorted(workflow.OPEN_STATUSES)


def visible(scope: Scope) -> QuerySet[Incident]:
    qs = Incident.objects.all()
    if scope.national:
        return qs
    if not scope.province_ids:
        return qs.none()
    affected = Incident.provinces.through.objects.filter(
        incident_id=OuterRef("pk"), province_id__in=scope.province_ids
    )
    return qs.filter(Q(all_provinces=True) | Exists(affected))


def incident_by_number(scope: Scope, number: str) -> Incident:
    inc = visible(scope).filter(number=number).first()
    if inc is None:
        raise NotFound()
    return inc


def open_incidents(scope: Scope) -> QuerySet[Incident]:
    return visible(scope).filter(status__in=OPEN)


def affected_province_ids(incident: Incident) -> list[int] | None:
    """None = all provinces."""
    if incident.all_provinces:
        return None
    return list(incident.provinces.values_list("pk", flat=True))


def _matching(incident: Incident, qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    provinces = affected_province_ids(incident)
    if provinces is not None:
        qs = qs.filter(province_id__in=provinces)
    category_ids = list(incident.categories.values_list("pk", flat=True))
    if category_ids:
        qs = qs.filter(
            Q(kind=Kind.CONSULTATION) | Q(kind__in=[Kind.COMPLAINT, Kind.FAULT], category_id__in=category_ids)
        )
    else:
        qs = qs.filter(kind__in=RELATED_KINDS)
    return qs


def candidates(
    incident: Incident,
    *,
    since: datetime,
    until: datetime,
    keywords: list[str] | None = None,
    scope: Scope | None = None,
    limit: int = 50,
) -> list[Ticket]:
    """Open orders of the window not linked to any incident, newest first (the incident page's suggestions)."""
    base = (
        Ticket.objects.scoped(scope)
        if scope is not None
        else Ticket.objects.unscoped("auto-link rules: every affected province's new orders")
    )
    qs = _matching(
        incident, base.filter(created_at__gte=since, created_at__lte=until, status__in=OPEN_STATUS_VALUES)
    )
    linked = Link.objects.unscoped("existence only").filter(ticket_id=OuterRef("pk"))
    qs = qs.filter(~Exists(linked))
    if keywords:
        words = Q()
        for w in keywords:
            words |= Q(subject__icontains=w) | Q(description__icontains=w)
        qs = qs.filter(words)
    return list(qs.select_related("province", "category").order_by("-created_at", "-id")[:limit])


def suggestions_for(ticket: Ticket) -> list[Incident]:
    """Open incidents a new order may belong to: its province affected, registered after the start, kind/category."""
    if ticket.kind not in RELATED_KINDS:
        return []
    # One query: an order already linked gets nothing.
    linked = Link.objects.unscoped("the order was fetched through its scope").filter(ticket_id=ticket.pk)
    qs = Incident.objects.filter(status__in=OPEN, started_at__lte=ticket.created_at).filter(~Exists(linked))
    affected = Incident.provinces.through.objects.filter(
        incident_id=OuterRef("pk"), province_id=ticket.province_id
    )
    qs = qs.filter(Q(all_provinces=True) | Exists(affected))
    if ticket.kind != Kind.CONSULTATION:
        any_cat = Incident.categories.through.objects.filter(incident_id=OuterRef("pk"))
        this_cat = any_cat.filter(category_id=ticket.category_id or 0)
        qs = qs.filter(~Exists(any_cat) | Exists(this_cat))
    return list(qs.order_by("-declared_at")[:5])


def link_of(ticket: Ticket) -> Link | None:
    return (
        Link.objects.unscoped("the order was fetched through its scope")
        .select_related("incident")
        .filter(ticket_id=ticket.pk)
        .first()
    )


def links(incident: Incident, scope: Scope) -> QuerySet[Link]:
    return (
        Link.objects.scoped(scope)
        .filter(incident=incident)
        .select_related("ticket", "province", "linked_by")
        .order_by("province__report_order", "-linked_at")
    )


def link_by_id(scope: Scope, incident: Incident, link_id: int) -> Link:
    link = Link.objects.scoped(scope).filter(incident=incident, pk=link_id).select_related("incident").first()
    if link is None:
        raise NotFound()
    return link


def current_bulletin(incident: Incident) -> Bulletin | None:
    return Bulletin.objects.filter(incident=incident, is_current=True).first()


def bulletin_by_version(incident: Incident, version: int) -> Bulletin:
    b = Bulletin.objects.filter(incident=incident, version=version).first()
    if b is None:
        raise NotFound()
    return b


def receipts(bulletin: Bulletin, scope: Scope) -> QuerySet[Receipt]:
    return (
        Receipt.objects.scoped(scope)
        .filter(bulletin=bulletin)
        .select_related("team", "province", "acknowledged_by")
        .order_by("province__report_order", "team__code")
    )


def my_receipt(bulletin: Bulletin, team_ids: frozenset[int]) -> Receipt | None:
    return (
        Receipt.objects.unscoped("the actor's own teams")
        .filter(bulletin=bulletin, team_id__in=team_ids)
        .order_by("pk")
        .first()
    )


def banners(actor: Any) -> list[dict[str, Any]]:
    """The open incidents with a bulletin addressed to one of the actor's teams (or visible to HQ)."""
    if not actor.can("incident.view"):
        return []
    team_ids = {s.team_id for s in actor.seats}
    out = []
    for inc in open_incidents(actor.scope).order_by("-declared_at")[:3]:
        b = current_bulletin(inc)
        mine = my_receipt(b, frozenset(team_ids)) if b is not None else None
        out.append({"incident": inc, "bulletin": b, "receipt": mine})
    return out


def public_notices() -> list[dict[str, Any]]:
    """What the public FAQ shows: open incidents with an issued bulletin, with the customer script only."""
    out = []
    for inc in Incident.objects.filter(status__in=OPEN).order_by("-declared_at")[:3]:
        b = current_bulletin(inc)
        if b is None:
            continue
        names = ["全国"] if inc.all_provinces else [p.name for p in inc.provinces.order_by("report_order")]
        out.append(
            {
                "title": inc.title,
                "services": inc.services,
                "script": b.customer_script,
                "provinces": names,
                "since": inc.started_at,
                "expected": inc.expected_recovery_at,
                "status": inc.get_status_display(),
                "updated": b.issued_at,
            }
        )
    return out


def compile_annex(incident: Incident, *, now: datetime | None = None) -> dict[str, Any]:
    """The annex to HQ: related complaints, faults and consultations so far, by province, and the measures."""
    now = now or timezone.now()
    qs = _matching(
        incident,
        Ticket.objects.unscoped("the HQ report counts every affected province").filter(
            created_at__gte=incident.started_at, created_at__lte=now
        ),
    )
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {k: 0 for k in RELATED_KINDS})
    for row in qs.order_by().values("province_id", "kind").annotate(n=Count("id")):
        counts[row["province_id"]][row["kind"]] += row["n"]
    provinces = {p.pk: p for p in Province.objects.filter(pk__in=list(counts))}
    rows = [
        {
            "province": provinces[pid].name,
            "slug": provinces[pid].slug,
            **by_kind,
            "total": sum(by_kind.values()),
        }
        for pid, by_kind in sorted(counts.items(), key=lambda kv: provinces[kv[0]].report_order)
    ]
    totals = {k: sum(c[k] for c in counts.values()) for k in RELATED_KINDS}
    return {
        "generated_at": now.isoformat(),
        "rows": rows,
        "totals": {**totals, "total": sum(totals.values())},
        "measures": incident.measures,
        "workaround": incident.workaround,
    }
