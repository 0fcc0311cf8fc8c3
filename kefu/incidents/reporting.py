"""What the monthly report needs from incidents (reports sits above and imports this).

A complaint or fault order linked to an incident counts under 突发事件
(category ``cf_incident``) whatever category it was filed under; the order
itself keeps its category. A link made after the month's rollup marks the
order's cell for recomputation through ``changed_tickets``.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import BigIntegerField, Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.expressions import Combinable

from kefu.tickets.models import Category, Kind, Ticket

from .models import Link

INCIDENT_CATEGORY = "cf_incident"


def report_category() -> Combinable:
    """``category_id`` as the report counts it: the incident category for linked complaints and faults."""
    cat = Category.objects.filter(code=INCIDENT_CATEGORY).values_list("pk", flat=True).first()
    if cat is None:
        return F("category_id")
    linked = Link.objects.unscoped("report rollup: existence of a link").filter(ticket_id=OuterRef("pk"))
    return Case(
        When(Q(kind__in=[Kind.COMPLAINT, Kind.FAULT]) & Exists(linked), then=Value(cat)),
        default=F("category_id"),
        output_field=BigIntegerField(),
    )


def changed_tickets(since: datetime | None, until: datetime) -> QuerySet[Ticket]:
    """Orders linked in (since, until]: their month and province must be recounted."""
    links = Link.objects.unscoped("report rollup: links made since the checkpoint").filter(
        linked_at__lte=until
    )
    if since is not None:
        links = links.filter(linked_at__gt=since)
    return Ticket.objects.unscoped("report rollup: every province").filter(pk__in=links.values("ticket_id"))
