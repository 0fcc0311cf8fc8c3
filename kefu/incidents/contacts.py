"""Chats and calls as the incident's contacts, besides orders: suggestions, one-click links, counts.

A conversation's province is its team's (a provincial desk's chat), None for the
national online team; a call's is its line's, None for the national hotline. A
national contact is read and linked by national seats only (``Scope.covers``), a
provincial one by that province's seats: the same rule as linked orders.

While an incident is open, the incident page suggests the contacts of its window
(from the start until now) in the affected provinces plus the national hotline
and online team, which serve every province; one click links one. A contact
belongs to at most one incident. Linking writes one ``incident.contact_linked``
audit event; unlinking one ``incident.contact_unlinked``.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from kefu.calls.models import Call, Direction
from kefu.chat.models import Conversation
from kefu.core import audit
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.core.scope import Scope
from kefu.incidents.codes import IncidentCode
from kefu.org.access import Actor
from kefu.org.models import Province

from . import selectors, services
from .models import ContactKind, ContactLink, Incident

_WHY = "incident contacts: existence and row locks by id after a scoped fetch"
# A visitor who left before anyone answered and without asking anything is no contact.
_NOT_A_CONTACT = Q(status=Conversation.Status.ABANDONED, visitor_asked=False)
PERMISSION = {ContactKind.CHAT: "chat.work", ContactKind.CALL: "calls.view"}


def _province_filter(incident: Incident, field: str) -> Q:
    provinces = selectors.affected_province_ids(incident)
    national = Q(**{f"{field}__isnull": True})
    if provinces is None:
        return Q()
    return national | Q(**{f"{field}__in": provinces})


def _scope_filter(scope: Scope, field: str) -> Q:
    if scope.national:
        return Q()
    return Q(**{f"{field}__in": sorted(scope.province_ids)})


def chat_candidates(
    incident: Incident, scope: Scope, *, until: datetime | None = None, limit: int = 30
) -> list[Any]:
    """Conversations of the window, affected provinces or national, not linked to any incident."""
    until = until or timezone.now()
    linked = ContactLink.objects.unscoped("existence only").filter(conversation_id=OuterRef("pk"))
    qs = (
        Conversation.objects.filter(created_at__gte=incident.started_at, created_at__lte=until)
        .exclude(_NOT_A_CONTACT)
        .filter(_province_filter(incident, "team__province_id"), _scope_filter(scope, "team__province_id"))
        .filter(~Exists(linked))
    )
    return list(qs.select_related("team", "team__province").order_by("-created_at", "-id")[:limit])


def call_candidates(
    incident: Incident, scope: Scope, *, until: datetime | None = None, limit: int = 30
) -> list[Any]:
    """Inbound calls of the window, affected provinces or the national hotline, not linked to any incident."""
    until = until or timezone.now()
    linked = ContactLink.objects.unscoped("existence only").filter(call_id=OuterRef("pk"))
    qs = (
        Call.objects.scoped(scope)
        .filter(direction=Direction.IN, started_at__gte=incident.started_at, started_at__lte=until)
        .filter(_province_filter(incident, "province_id"))
        .filter(~Exists(linked))
    )
    return list(qs.select_related("line", "province").order_by("-started_at", "-id")[:limit])


def contact_links(incident: Incident, scope: Scope) -> QuerySet[ContactLink]:
    return (
        ContactLink.objects.scoped(scope)
        .filter(incident=incident)
        .select_related("conversation", "call", "province", "linked_by")
        .order_by("kind", "-contact_at")
    )


def counts(incident: Incident, scope: Scope) -> dict[str, int]:
    """Linked chats and calls the reader may see: {"chat": n, "call": n}."""
    c = Counter(ContactLink.objects.scoped(scope).filter(incident=incident).values_list("kind", flat=True))
    return {
        ContactKind.CHAT.value: c.get(ContactKind.CHAT, 0),
        ContactKind.CALL.value: c.get(ContactKind.CALL, 0),
    }


def _contact(actor: Actor, kind: str, contact_id: int) -> tuple[Any, int | None, datetime]:
    """The contact through the actor's scope: (object, province id, contact time); unseen = missing (404)."""
    if kind not in ContactKind.values:
        raise ValidationFailed(
            "关联类型应为在线会话或通话。",
            "kind must be chat or call.",
            fields=[{"field": "kind", "allowed": list(ContactKind.values)}],
        )
    actor.require("incident.link")
    actor.require(PERMISSION[ContactKind(kind)])
    if kind == ContactKind.CHAT:
        conv = (
            Conversation.objects.select_related("team")
            .filter(pk=contact_id)
            .filter(_scope_filter(actor.scope, "team__province_id"))
            .first()
        )
        if conv is None or not actor.scope.covers(conv.team.province_id):
            raise NotFound()
        return conv, conv.team.province_id, conv.created_at
    call = Call.objects.scoped(actor.scope).filter(pk=contact_id).first()
    if call is None:
        raise NotFound()
    return call, call.province_id, call.started_at or call.created_at


def _province_code(province_id: int | None) -> str:
    if province_id is None:
        return ""
    return Province.objects.filter(pk=province_id).values_list("code", flat=True).first() or ""


def contact_link_create(
    *, actor: Actor, incident: Incident, kind: str, contact_id: int, now: datetime | None = None
) -> ContactLink:
    """Count a chat or a call as a contact of the incident (one click from the incident page).

    The same contact again changes nothing; to another incident: 409; to a closed
    incident: 409; a provincial contact of a province the incident does not affect: 422;
    before the incident started: 422; a contact the actor cannot see: 404.
    """
    now = now or timezone.now()
    contact, province_id, contact_at = _contact(actor, kind, contact_id)
    field = "conversation" if kind == ContactKind.CHAT else "call"
    with transaction.atomic():
        inc = services._lock(incident)
        existing = (
            ContactLink.objects.unscoped(_WHY)
            .select_related("incident")
            .filter(**{f"{field}_id": contact.pk})
            .first()
        )
        if existing is not None:
            if existing.incident_id == inc.pk:
                return existing
            raise Conflict(
                f"该{ContactKind(kind).label}已关联事件 {existing.incident.number}。",
                f"The {kind} is already linked to incident {existing.incident.number}.",
                code=IncidentCode.ALREADY_LINKED,
                details={"incident": existing.incident.number},
            )
        services._require_open(inc)
        if province_id is not None and not services._affects(inc, province_id):
            raise ValidationFailed(
                "该会话/通话所属省份不在事件影响范围内，不能关联。",
                "The contact's province is not affected by this incident.",
                code=IncidentCode.PROVINCE_NOT_AFFECTED,
                fields=[{"field": "contact", "type": "province"}],
            )
        if contact_at is None or contact_at < inc.started_at:
            raise ValidationFailed(
                "该会话/通话早于故障开始时间，不能关联。",
                "The contact happened before the incident started.",
                code=IncidentCode.BEFORE_START,
                fields=[{"field": "contact", "type": "before_start"}],
            )
        try:
            with transaction.atomic():
                link = ContactLink.objects.create(
                    incident=inc,
                    kind=kind,
                    province_id=province_id,
                    contact_at=contact_at,
                    linked_at=now,
                    linked_by=actor.user if actor.user.pk else None,
                    **{field: contact},
                )
        except IntegrityError:  # linked by someone else since the check: the first link stands
            raise Conflict(
                "该会话/通话刚被关联到事件，请刷新。",
                "The contact was linked a moment ago; reload.",
                code=IncidentCode.ALREADY_LINKED,
            ) from None
        audit.record(
            actor=actor.user if actor.user.pk else None,
            verb="incident.contact_linked",
            target=inc,
            data={"number": inc.number, "kind": kind, "contact": contact.pk, "link": link.pk},
            province_code=_province_code(province_id),
            unit_code=actor.unit_code,
        )
    return link


def contact_link_by_id(scope: Scope, incident: Incident, link_id: int) -> ContactLink:
    link = (
        ContactLink.objects.scoped(scope)
        .filter(incident=incident, pk=link_id)
        .select_related("incident")
        .first()
    )
    if link is None:
        raise NotFound()
    return link


def contact_link_remove(*, actor: Actor, link: ContactLink) -> None:
    """Undo a wrong chat/call link while the incident is open."""
    actor.require("incident.link")
    if not actor.scope.covers(link.province_id):
        raise NotFound()
    with transaction.atomic():
        inc = services._lock(link.incident)
        services._require_open(inc)
        locked = ContactLink.objects.unscoped(_WHY).select_for_update().filter(pk=link.pk).first()
        if locked is None:
            raise NotFound()
        audit.record(
            actor=actor.user if actor.user.pk else None,
            verb="incident.contact_unlinked",
            target=inc,
            data={
                "number": inc.number,
                "kind": locked.kind,
                "contact": locked.conversation_id or locked.call_id,
            },
            province_code=_province_code(locked.province_id),
            unit_code=actor.unit_code,
        )
        locked.delete()
