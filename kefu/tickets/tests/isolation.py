"""Isolation table for work orders (format: tests/isolation_spec.py).

A Beijing desk supervisor asks for a Shanghai order by every route, with a body
that would be valid for the owner: each answer is the missing order's 404 and
nothing is written. Lists, search and the caller lookup never show it.
"""

from __future__ import annotations

import itertools
from typing import Any

from kefu.org.models import Team
from kefu.tickets import services
from tests.isolation_spec import ListRoute, NoObject, ObjectRoute, Target

from .factories import customer_in, make_ticket

_n = itertools.count(1)
MISSING_NUMBER = "SH0000000000000"


def _ticket(ctx: Any, *, dispatched: bool = False, resolved: bool = False) -> Any:
    n = next(_n)
    customer = customer_in("sh", name=f"上海隔离工单客户{n:03d}", account_number=f"ISO-TK-{n:04d}")
    t = make_ticket(ctx.owner, customer=customer, subject=f"上海隔离工单{n:03d}")
    if dispatched:
        services.ticket_dispatch(
            actor=ctx.owner,
            ticket=t,
            to_team=Team.objects.get(code="hotline"),
            reason_code="complaint_assist",
        )
    if resolved:
        services.ticket_resolve(actor=ctx.owner, ticket=t, resolution="已处理", reply_content="已答复")
    return t


def _marker(ctx: Any) -> str:
    return _ticket(ctx).subject


def _target(body: dict[str, Any] | None = None, **state: bool) -> Any:
    def make(ctx: Any) -> Target:
        t = _ticket(ctx, **state)
        return Target(path={"number": t.number}, body=body, missing_path={"number": MISSING_NUMBER})

    return make


def _web(ctx: Any) -> Target:
    t = _ticket(ctx)
    return Target(path={"number": t.number}, missing_path={"number": MISSING_NUMBER})


def _web_act(ctx: Any) -> Target:
    t = _ticket(ctx)
    return Target(
        path={"number": t.number, "action": "reply"},
        body={"method": "sms", "content": "越权答复"},
        missing_path={"number": MISSING_NUMBER, "action": "reply"},
    )


def _web_note(ctx: Any) -> Target:
    t = _ticket(ctx)
    return Target(
        path={"number": t.number}, body={"body": "越权备注"}, missing_path={"number": MISSING_NUMBER}
    )


def _attachment(ctx: Any) -> Target:
    from kefu.tickets.attachments import Upload, attachment_add

    t = _ticket(ctx)
    att = attachment_add(
        actor=ctx.owner, ticket=t, upload=Upload(name="截图.png", content=b"\x89PNG\r\n\x1a\nxx")
    )
    return Target(
        path={"number": t.number, "attachment_id": att.pk},
        missing_path={"number": t.number, "attachment_id": 987_654_321},
    )


def _create(ctx: Any) -> Target:
    customer = customer_in("sh")
    body = {
        "kind": "complaint",
        "customer_id": customer.pk,
        "subject": "越权登记",
        "category": "cf_usage_login",
    }
    return Target(body=body, missing_body={**body, "customer_id": 987_654_321})


def _lookup_marker(ctx: Any) -> str:
    return _ticket(ctx).customer.name


REPLY = {"method": "sms", "content": "越权答复"}

ROUTES = {
    "api:GET /api/tickets": [
        ListRoute(make=_marker),
        ListRoute(make=_marker, query={"queue": "all", "q": "上海"}),
    ],
    "api:GET /api/tickets/categories": NoObject("the national taxonomy, the same for everyone"),
    "api:GET /api/tickets/lookup": ListRoute(make=_lookup_marker, query={"phone": "上海隔离工单客户"}),
    "api:POST /api/tickets": ObjectRoute(make=_create),
    "api:GET /api/tickets/{number}": ObjectRoute(make=_target()),
    "api:PATCH /api/tickets/{number}": ObjectRoute(make=_target({"version": 1, "subject": "越权修改"})),
    "api:GET /api/tickets/{number}/attachments/{attachment_id}": ObjectRoute(make=_attachment),
    "api:POST /api/tickets/{number}/attachments": ObjectRoute(make=_target()),
    "api:POST /api/tickets/{number}/notes": ObjectRoute(make=_target({"body": "越权备注"})),
    "api:POST /api/tickets/{number}/dispatch": ObjectRoute(
        make=_target({"to_team": "hotline", "reason_code": "complaint_assist"})
    ),
    "api:POST /api/tickets/{number}/accept": ObjectRoute(make=_target({}, dispatched=True)),
    "api:POST /api/tickets/{number}/return": ObjectRoute(
        make=_target({"reason": "not_ours"}, dispatched=True)
    ),
    "api:POST /api/tickets/{number}/return-result": ObjectRoute(
        make=_target({"result": "x"}, dispatched=True)
    ),
    "api:POST /api/tickets/{number}/reply": ObjectRoute(make=_target(REPLY)),
    "api:POST /api/tickets/{number}/await-customer": ObjectRoute(make=_target({})),
    "api:POST /api/tickets/{number}/customer-responded": ObjectRoute(make=_target({})),
    "api:POST /api/tickets/{number}/resolve": ObjectRoute(
        make=_target({"resolution": "越权办结", "reply_content": "x"})
    ),
    "api:POST /api/tickets/{number}/refer": ObjectRoute(make=_target({"referred_to": "business_hall"})),
    "api:POST /api/tickets/{number}/record-acceptance": ObjectRoute(make=_target({"outcome": "completed"})),
    "api:POST /api/tickets/{number}/reopen": ObjectRoute(make=_target({"note": "x"}, resolved=True)),
    "api:POST /api/tickets/{number}/close": ObjectRoute(make=_target({}, resolved=True)),
    "api:POST /api/tickets/{number}/submit-to-province": ObjectRoute(make=_target({}, resolved=True)),
    "api:POST /api/tickets/{number}/follow-up": ObjectRoute(make=_target({"note": "越权跟进"})),
    "api:POST /api/tickets/{number}/reassign": ObjectRoute(
        make=_target({"to_team": "hotline", "note": "越权改派"})
    ),
}

ROUTES.update(
    {
        "tickets/": [
            ListRoute(make=_marker),
            ListRoute(make=_marker, query={"queue": "all", "q": "上海隔离"}),
        ],
        "tickets/new/": NoObject(
            "the create form; the customer it names is checked by the scoped lookup (API route)"
        ),
        "tickets/<str:number>/": ObjectRoute(make=_web),
        "tickets/<str:number>/act/<slug:action>/": ObjectRoute(make=_web_act, methods=("POST",)),
        "tickets/<str:number>/notes/": ObjectRoute(make=_web_note, methods=("POST",)),
        "tickets/<str:number>/files/": ObjectRoute(make=_web, methods=("POST",)),
        "tickets/<str:number>/files/<int:attachment_id>/": ObjectRoute(make=_attachment),
    }
)
