"""Isolation table for incidents (format: tests/isolation_spec.py).

The incident is declared for Shanghai only, so a Beijing desk supervisor gets
the 404 of a missing incident on every route (and changes nothing); the list
never shows it. Linked orders and receipts are province-owned on top of that.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from django.utils import timezone

from kefu.incidents import contacts, services
from kefu.tickets.tests.factories import customer_in, make_ticket
from tests.isolation_spec import ListRoute, NoObject, ObjectRoute, Target

_n = itertools.count(1)
MISSING = "INC00000000-00"


def _incident(ctx: Any) -> Any:
    n = next(_n)
    lead = ctx.user(f"iso_inc_lead{n}", "hotline", "supervisor")
    now = timezone.now()
    return services.incident_declare(
        actor=lead,
        title=f"上海隔离事件{n:03d}",
        services="入会",
        symptoms="无法入会",
        impact="P2",
        started_at=now - timedelta(minutes=10),
        detected_at=now - timedelta(minutes=5),
        province_slugs=["sh"],
    )


def _marker(ctx: Any) -> str:
    return str(_incident(ctx).title)


def _on(body: dict[str, Any] | None = None) -> Any:
    def make(ctx: Any) -> Target:
        inc = _incident(ctx)
        return Target(path={"number": inc.number}, body=body, missing_path={"number": MISSING})

    return make


def _ack(ctx: Any) -> Target:
    inc = _incident(ctx)
    hq = ctx.user(f"iso_inc_hq{next(_n)}", "hq_service", "kb_publisher")
    b = services.bulletin_issue(actor=hq, incident=inc, customer_script="口径", agent_guidance="指引")
    return Target(
        path={"number": inc.number, "version": b.version},
        missing_path={"number": MISSING, "version": b.version},
    )


def _link(ctx: Any) -> Target:
    inc = _incident(ctx)
    t = make_ticket(ctx.owner, customer=customer_in("sh"))
    return Target(path={"number": inc.number}, body={"ticket": t.number}, missing_path={"number": MISSING})


def _unlink(ctx: Any) -> Target:
    inc = _incident(ctx)
    t = make_ticket(ctx.owner, customer=customer_in("sh"))
    link = services.link_create(actor=ctx.owner, incident=inc, ticket=t)
    return Target(
        path={"number": inc.number, "link_id": link.pk}, missing_path={"number": MISSING, "link_id": link.pk}
    )


def _sh_call() -> Any:
    from kefu.calls.tests.factories import make_call
    from kefu.org.models import Province

    return make_call(Province.objects.get(slug="sh"))


def _contact_link(ctx: Any) -> Target:
    inc = _incident(ctx)
    call = _sh_call()
    return Target(
        path={"number": inc.number},
        body={"kind": "call", "id": str(call.pk)},
        missing_path={"number": MISSING},
    )


def _contact_unlink(ctx: Any) -> Target:
    inc = _incident(ctx)
    link = contacts.contact_link_create(actor=ctx.owner, incident=inc, kind="call", contact_id=_sh_call().pk)
    return Target(
        path={"number": inc.number, "link_id": link.pk}, missing_path={"number": MISSING, "link_id": link.pk}
    )


def _contact_api(ctx: Any) -> Target:
    inc = _incident(ctx)
    return Target(
        path={"number": inc.number},
        body={"kind": "call", "id": _sh_call().pk},
        missing_path={"number": MISSING},
    )


POST = ("POST",)
ROUTES = {
    "incidents/": ListRoute(make=_marker),
    "incidents/new/": NoObject("the declaration form; declaring is for national seats (tests/test_views.py)"),
    "incidents/<str:number>/": ObjectRoute(make=_on()),
    "incidents/<str:number>/update/": ObjectRoute(make=_on({"body": "越权进展"}), methods=POST),
    "incidents/<str:number>/status/": ObjectRoute(make=_on({"status": "identified"}), methods=POST),
    "incidents/<str:number>/hq-ack/": ObjectRoute(make=_on(), methods=POST),
    "incidents/<str:number>/bulletin/": ObjectRoute(
        make=_on({"customer_script": "越权口径", "agent_guidance": "越权指引"}), methods=POST
    ),
    "incidents/<str:number>/bulletin/<int:version>/ack/": ObjectRoute(make=_ack, methods=POST),
    "incidents/<str:number>/link/": ObjectRoute(make=_link, methods=POST),
    "incidents/<str:number>/links/<int:link_id>/unlink/": ObjectRoute(make=_unlink, methods=POST),
    "incidents/<str:number>/contacts/link/": ObjectRoute(make=_contact_link, methods=POST),
    "incidents/<str:number>/contacts/<int:link_id>/unlink/": ObjectRoute(make=_contact_unlink, methods=POST),
    "incidents/<str:number>/bulk-resolve/": ObjectRoute(make=_on({"method": "sms"}), methods=POST),
    "incidents/<str:number>/article/": ObjectRoute(
        make=_on({"title": "x", "question": "x", "answer_agent": "x", "answer_customer": "x"}), methods=POST
    ),
    "incidents/<str:number>/review/": ObjectRoute(make=_on()),
    "incidents/<str:number>/review.xlsx": ObjectRoute(make=_on()),
    "api:GET /api/incidents": ListRoute(make=_marker),
    "api:POST /api/incidents": NoObject(
        "declares a new incident; declaring is for national seats (test_api.py)"
    ),
    "api:GET /api/incidents/{number}": ObjectRoute(make=_on()),
    "api:POST /api/incidents/{number}/status": ObjectRoute(make=_on({"status": "identified"}), methods=POST),
    "api:POST /api/incidents/{number}/bulletins": ObjectRoute(
        make=_on({"customer_script": "越权口径", "agent_guidance": "越权指引"}), methods=POST
    ),
    "api:GET /api/incidents/{number}/bulletins/current/receipts": ObjectRoute(make=_on()),
    "api:POST /api/incidents/{number}/bulletins/{version}/ack": ObjectRoute(make=_ack, methods=POST),
    "api:GET /api/incidents/{number}/links": ObjectRoute(make=_on()),
    "api:POST /api/incidents/{number}/links": ObjectRoute(make=_link, methods=POST),
    "api:GET /api/incidents/{number}/contacts": ObjectRoute(make=_on()),
    "api:POST /api/incidents/{number}/contacts": ObjectRoute(make=_contact_api, methods=POST),
    "api:POST /api/incidents/{number}/bulk-resolve": ObjectRoute(make=_on({"method": "sms"}), methods=POST),
    "api:GET /api/incidents/{number}/review": ObjectRoute(make=_on()),
}
