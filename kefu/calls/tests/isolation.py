"""Isolation table for calls (format: tests/isolation_spec.py).

A call belongs to its line's province (the hotline's to none: national seats
only). A Beijing desk supervisor asking for a Shanghai desk call by any route
gets the 404 of a missing id; lists never show it.
"""

from __future__ import annotations

from typing import Any

from kefu.calls.tests.factories import make_call
from tests.isolation_spec import ListRoute, NoObject, ObjectRoute, Public, Target


def call_path(ctx: Any) -> dict[str, Any]:
    return {"pk": make_call(ctx.province).pk}


def call_ticket_post(ctx: Any) -> Target:
    call = make_call(ctx.province)
    return Target(path={"pk": call.pk}, body={"customer": "1", "kind": "consultation"})


def call_api(ctx: Any) -> dict[str, Any]:
    return {"call_id": make_call(ctx.province).pk}


def call_marker(ctx: Any) -> str:
    return make_call(ctx.province, caller="13955550001").caller


ROUTES = {
    "calls/": ListRoute(make=call_marker),
    "calls/export.xlsx": NoObject("a workbook of the same scoped list as calls/ (tested in test_views)"),
    "calls/<int:pk>/": ObjectRoute(make=call_path),
    "calls/<int:pk>/card/": ObjectRoute(make=call_path),
    "calls/<int:pk>/ticket/": ObjectRoute(make=call_ticket_post, methods=("POST",)),
    "calls/desk/": NoObject("the agent's own screen-pop page"),
    "calls/desk/pops/": NoObject(
        "the agent's own pops only (user_id = the signed-in user), tested in test_views"
    ),
    "calls/live/": NoObject("the home panel of the lines in one's scope, tested in test_views"),
    "calls/rates/": NoObject(
        "rates of the lines in one's scope (a Shanghai line never listed for Beijing: test_views)"
    ),
    "calls/rates.xlsx": NoObject("the same figures as calls/rates/ as a workbook"),
    "calls/import/": NoObject("national supervisors' import form; others get 403 (test_views)"),
    "api:GET /api/calls": ListRoute(make=call_marker),
    "api:GET /api/calls/rates": NoObject("rates of the lines in one's scope, as calls/rates/"),
    "api:GET /api/calls/{call_id}": ObjectRoute(make=call_api),
    "calls/cti/<slug:source>/": Public(
        "the PBX webhook: authenticated by its HMAC signature or token, not a session"
    ),
}
