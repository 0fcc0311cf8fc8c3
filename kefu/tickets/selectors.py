"""Scoped reads of work orders: single orders, the workbench queues, filters, lookups.

Everything starts from ``Ticket.objects.scoped(actor.scope)``: an order of
another province is reported exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from kefu.core.errors import NotFound, ValidationFailed
from kefu.customers.models import Customer
from kefu.org.access import Actor
from kefu.org.models import Province, Team

from . import workflow
from .models import OPEN_STATUSES, Attachment, Category, Channel, Kind, Status, Ticket

DUE_SOON = timedelta(hours=2)
QUEUES = ("mine", "team", "awaiting", "submitted", "due_soon", "overdue", "all", "off_rule")


def tickets_in_scope(actor: Actor) -> QuerySet[Ticket]:
    return Ticket.objects.scoped(actor.scope)


def ticket_by_number(actor: Actor, number: str) -> Ticket:
    ticket = (
        tickets_in_scope(actor)
        .select_related(
            "province",
            "customer",
            "contact",
            "category__parent__parent",
            "holder_team",
            "first_contact_team",
            "first_contact_agent",
            "assignee",
        )
        .filter(number=number)
        .first()
    )
    if ticket is None:
        raise NotFound()
    return ticket


def attachment_in_scope(actor: Actor, ticket: Ticket, attachment_id: int) -> Attachment:
    att = Attachment.objects.scoped(actor.scope).filter(pk=attachment_id, ticket=ticket).first()
    if att is None:
        raise NotFound()
    return att


@dataclass(frozen=True)
class Filters:
    kind: str = ""
    status: str = ""
    category: str = ""
    channel: str = ""
    province: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str = ""


def _bad(field: str) -> ValidationFailed:
    return ValidationFailed(
        f"筛选条件 {field} 无效。", f"Invalid filter: {field}.", fields=[{"field": field}]
    )


def queue(actor: Actor, name: str, filters: Filters, *, now: datetime | None = None) -> QuerySet[Ticket]:
    """One of the workbench queues, filtered, newest first (overdue/due soon: nearest deadline first)."""
    now = now or timezone.now()
    qs = tickets_in_scope(actor)
    teams = actor.team_ids_with("ticket.view")
    if name == "mine":
        qs = qs.filter(assignee=actor.user, status__in=OPEN_STATUSES)
    elif name == "team":
        qs = qs.filter(holder_team__in=teams, status__in=OPEN_STATUSES)
    elif name == "awaiting":
        qs = qs.filter(holder_team__in=teams, status=Status.AWAITING_ACCEPTANCE)
    elif name == "submitted":
        # Complaints the hotline or online team took and submitted to this desk (第三条(三)3).
        qs = qs.filter(holder_team__in=teams, status=Status.SUBMITTED)
    elif name == "due_soon":
        qs = qs.filter(
            holder_team__in=teams, status__in=OPEN_STATUSES, due_at__gt=now, due_at__lte=now + DUE_SOON
        )
    elif name == "overdue":
        qs = qs.filter(holder_team__in=teams, status__in=OPEN_STATUSES, due_at__lte=now)
    elif name == "off_rule":
        # Supervisors only, on the page and in the API alike (one check, here).
        actor.require("ticket.supervise")
        qs = qs.filter(off_rule_transfers__gt=0)
    elif name != "all":
        raise _bad("queue")
    qs = apply_filters(actor, qs, filters)
    if name == "awaiting":
        # The order about to be auto-accepted first: by the pending hop's accept deadline.
        qs = qs.annotate(accept_due=_accept_due())
        order: list[Any] = [F("accept_due").asc(nulls_last=True), "id"]
    elif name in ("all", "off_rule"):
        order = ["-created_at", "-id"]
    else:
        # Work queues: the nearest deadline first; orders without a running clock after, newest first.
        order = [F("due_at").asc(nulls_last=True), "-created_at", "-id"]
    # Only the customer is joined: teams, provinces, categories and users come from small lookups in
    # ``attach_refs`` (a ten-table join costs more to plan than to run on a million rows).
    return qs.select_related("customer").order_by(*order)


def _accept_due() -> Subquery:
    from kefu.sla.models import Clock

    from .models import Hop, HopStatus

    pending = (
        Hop.objects.unscoped("correlated subquery inside the caller's scoped query")
        .filter(ticket=OuterRef(OuterRef("pk")), status=HopStatus.PENDING)
        .values("pk")[:1]
    )
    return Subquery(
        Clock.objects.unscoped("correlated subquery inside the caller's scoped query")
        .filter(
            owner_type="tickets.hop", kind="accept", status=Clock.Status.RUNNING, owner_id=Subquery(pending)
        )
        .values("due_at")[:1]
    )


def apply_filters(actor: Actor, qs: QuerySet[Ticket], f: Filters) -> QuerySet[Ticket]:
    if f.kind:
        if f.kind not in Kind.values:
            raise _bad("kind")
        qs = qs.filter(kind=f.kind)
    if f.status:
        if f.status not in Status.values:
            raise _bad("status")
        qs = qs.filter(status=f.status)
    if f.channel:
        if f.channel not in Channel.values:
            raise _bad("channel")
        qs = qs.filter(channel=f.channel)
    if f.category:
        cat = Category.objects.filter(code=f.category).first()
        if cat is None:
            raise _bad("category")
        # The taxonomy is small: its subtree's ids, not a three-way join on a million rows.
        ids = {cat.pk}
        children = dict(Category.objects.values_list("pk", "parent_id"))
        for _ in range(2):
            ids |= {pk for pk, parent in children.items() if parent in ids}
        qs = qs.filter(category_id__in=sorted(ids))
    if f.province:
        # A province filter narrows within the scope; it never widens it.
        province = Province.objects.filter(Q(code=f.province) | Q(slug=f.province)).first()
        if province is None:
            raise _bad("province")
        qs = qs.filter(province=province)
    if f.date_from:
        qs = qs.filter(created_at__gte=_day_start(f.date_from))
    if f.date_to:
        qs = qs.filter(created_at__lt=_day_start(f.date_to + timedelta(days=1)))
    if f.q:
        q = f.q.strip()[:60]
        qs = qs.filter(Q(number__iexact=q) | Q(caller_phone=q) | Q(subject__icontains=q))
    return qs


def _day_start(day: dt.date) -> datetime:
    return timezone.make_aware(datetime.combine(day, dt.time.min))


def page(qs: QuerySet[Ticket], *, offset: int, limit: int) -> tuple[list[Ticket], bool]:
    """One page and whether there is another (no COUNT over a million rows), references attached."""
    rows = list(qs[offset : offset + limit + 1])
    return attach_refs(rows[:limit]), len(rows) > limit


def attach_refs(rows: list[Ticket]) -> list[Ticket]:
    """Fill the foreign keys a list shows from four small queries instead of joins."""
    from kefu.org.models import User

    if not rows:
        return rows
    teams = {t.pk: t for t in Team.objects.all()}
    provinces = {p.pk: p for p in Province.objects.all()}
    categories = {c.pk: c for c in Category.objects.all()}
    for c in categories.values():  # parents from the same map: ``path`` needs no query
        if c.parent_id is not None:
            c.parent = categories[c.parent_id]
    user_ids = {t.first_contact_agent_id for t in rows} | {t.assignee_id for t in rows if t.assignee_id}
    users = User.objects.in_bulk(user_ids)
    for t in rows:
        t.province = provinces[t.province_id]
        t.holder_team = teams[t.holder_team_id]
        t.first_contact_team = teams[t.first_contact_team_id]
        t.first_contact_agent = users[t.first_contact_agent_id]
        t.assignee = users.get(t.assignee_id) if t.assignee_id else None
        t.category = categories.get(t.category_id) if t.category_id else None
    return rows


def queue_counts(actor: Actor, *, now: datetime | None = None) -> dict[str, int]:
    """Sizes of the personal queues (bounded by the actor's teams' open orders)."""
    empty = Filters()
    return {
        name: queue(actor, name, empty, now=now).count()
        for name in ("mine", "team", "awaiting", "submitted", "due_soon", "overdue")
    }


def submitted_complaints(actor: Actor, *, limit: int = 5) -> list[Ticket]:
    """The newest complaints submitted to the actor's desk, for the notice on the home page."""
    return list(queue(actor, "submitted", Filters()).order_by("-updated_at", "-id")[:limit])


def open_orders_of(actor: Actor, customer: Customer, *, limit: int = 20) -> list[Ticket]:
    return attach_refs(
        list(
            tickets_in_scope(actor)
            .filter(customer=customer, status__in=OPEN_STATUSES)
            .select_related("customer")
            .order_by("-created_at")[:limit]
        )
    )


def recent_orders_of(actor: Actor, customer: Customer, *, limit: int = 10) -> list[Ticket]:
    return list(tickets_in_scope(actor).filter(customer=customer).order_by("-created_at")[:limit])


def leaf_categories(kind: str, *, on: dt.date | None = None) -> list[Category]:
    """The leaves in force on a day under the kind's root (complaint/fault: 投诉/故障; consultation: 咨询)."""
    on = on or timezone.localdate()
    if kind in (Kind.ACCEPTANCE, ""):
        return []
    root = "consult" if kind == Kind.CONSULTATION else "cf"
    in_force = Category.objects.filter(valid_from__lte=on).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=on)
    )
    nodes = list(in_force.select_related("parent__parent"))
    parents = {c.parent_id for c in nodes if c.parent_id}
    leaves = []
    for c in nodes:
        top = c
        while top.parent is not None:
            top = top.parent
        if top.code == root and c.pk not in parents:
            leaves.append(c)
    return sorted(
        leaves,
        key=lambda c: (
            c.parent.parent.sort_order if c.parent and c.parent.parent else 0,
            c.parent.sort_order if c.parent else 0,
            c.sort_order,
        ),
    )


# Order creation looks up one category per request. The taxonomy is a few dozen rows that change
# only in the admin, so each process keeps it for TAXONOMY_SECONDS: saving or deleting a category
# clears this process's copy at once (signals below); other processes see the change within
# TAXONOMY_SECONDS. Validity dates are compared on every call, so a node retired by date needs nothing.
TAXONOMY_SECONDS = 5.0


@dataclass(frozen=True)
class _Taxonomy:
    read_at: float
    by_code: dict[str, Category]
    children: dict[int, list[Category]]


_taxonomy: list[_Taxonomy] = []


def _read_taxonomy() -> _Taxonomy:
    nodes = list(Category.objects.all())
    by_id = {c.pk: c for c in nodes}
    children: dict[int, list[Category]] = {}
    for c in nodes:
        if c.parent_id is not None:
            c.parent = by_id[c.parent_id]  # the parent chain in memory, as select_related gave it
            children.setdefault(c.parent_id, []).append(c)
    return _Taxonomy(read_at=time.monotonic(), by_code={c.code: c for c in nodes}, children=children)


def _taxonomy_now() -> _Taxonomy:
    current = _taxonomy[0] if _taxonomy else None
    if current is None or time.monotonic() - current.read_at >= TAXONOMY_SECONDS:
        current = _read_taxonomy()
        _taxonomy[:] = [current]
    return current


def taxonomy_clear(**_: Any) -> None:
    """Forget the cached taxonomy (on any change to a category; tests call it between tests)."""
    _taxonomy.clear()


post_save.connect(taxonomy_clear, sender=Category, dispatch_uid="tickets.taxonomy.save")
post_delete.connect(taxonomy_clear, sender=Category, dispatch_uid="tickets.taxonomy.delete")


def category_by_code(code: str | None) -> Category | None:
    """A category with its parent chain (read-only: the instances are shared within the process)."""
    if not code:
        return None
    cat = _taxonomy_now().by_code.get(code)
    if cat is None:
        raise ValidationFailed(
            "分类不存在。", "Unknown category.", fields=[{"field": "category", "value": code}]
        )
    return cat


def has_children_in_force(category: Category, day: dt.date) -> bool:
    return any(c.in_force(day) for c in _taxonomy_now().children.get(category.pk, ()))


def dispatch_targets(ticket: Ticket) -> list[Team]:
    """Teams an order may be handed to: the national hotline and online teams, and its province's teams."""
    qs = (
        Team.objects.filter(kind__in=workflow.FRONT_TEAMS)
        .filter(Q(province__isnull=True) | Q(province_id=ticket.province_id))
        .exclude(pk=ticket.holder_team_id)
    )
    return sorted(qs, key=lambda t: (t.kind != workflow.HOTLINE, t.kind != workflow.ONLINE, t.code))


def team_by_code(code: str) -> Team:
    team = Team.objects.filter(code=code).first()
    if team is None:
        raise ValidationFailed("团队不存在。", "Unknown team.", fields=[{"field": "to_team", "value": code}])
    return team


def ticket_detail(actor: Actor, ticket: Ticket, *, with_clocks: bool = True) -> dict[str, Any]:
    """Everything the order page and the API detail show (children through the scoped parent)."""
    from kefu.core import audit
    from kefu.sla import selectors as sla_selectors

    hops = list(
        ticket.hops.select_related("from_team", "to_team", "sent_by", "accepted_by").order_by(
            "created_at", "id"
        )
    )
    clocks = []
    if with_clocks:
        clocks = sla_selectors.clocks_for("tickets.ticket", [ticket.pk]) + sla_selectors.clocks_for(
            "tickets.hop", [h.pk for h in hops]
        )
    return {
        "hops": hops,
        "replies": list(ticket.replies.select_related("team", "author")),
        "notes": list(ticket.notes.select_related("team", "author")),
        "attachments": list(ticket.attachments.select_related("uploaded_by")),
        "events": list(audit.timeline(ticket)),
        "clocks": clocks,
    }


def problem_samples(since: datetime, until: datetime) -> list[Any]:
    """Complaint, fault and consultation orders resolved in a window, for the knowledge app's mining."""
    from kefu.knowledge.registry import ProblemSample

    rows = (
        Ticket.objects.unscoped("national common-problem mining by the operator (第四条)")
        .filter(resolved_at__gte=since, resolved_at__lt=until)
        .exclude(kind=Kind.ACCEPTANCE)
        .select_related("category")
        .values_list("number", "category__code", "subject", "description", "province_id")
    )
    return [
        ProblemSample(ref=n, category_code=c or "consult", text=f"{s}\n{d}".strip(), province_id=p)
        for n, c, s, d, p in rows.iterator()
    ]


def leaf_category_choices() -> list[tuple[str, str]]:
    """The live taxonomy for the knowledge app's article form: (code, full path)."""
    return [(c.code, c.path) for c in leaf_categories(Kind.COMPLAINT) + leaf_categories(Kind.CONSULTATION)]


def owner_links(owner_type: str) -> Any:
    """For the SLA lists: clock owner ids -> (order number, order page URL)."""
    from django.urls import reverse

    def links(owner_ids: Any) -> dict[int, tuple[str, str]]:
        ids = list(owner_ids)
        if owner_type == "tickets.hop":
            from .models import Hop

            rows = (
                Hop.objects.unscoped("owner ids come from the SLA app's scoped list")
                .filter(pk__in=ids)
                .values_list("pk", "ticket__number")
            )
        else:
            rows = (
                Ticket.objects.unscoped("owner ids come from the SLA app's scoped list")
                .filter(pk__in=ids)
                .values_list("pk", "number")
            )
        return {pk: (number, reverse("tickets:detail", args=[number])) for pk, number in rows}

    return links
