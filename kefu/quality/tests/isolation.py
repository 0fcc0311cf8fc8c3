"""Isolation table for quality: inspections are owned by the province of the agent's team."""

from __future__ import annotations

import itertools
from typing import Any

from django.utils import timezone

from kefu.org.models import Role
from tests.isolation_spec import ListRoute, NoObject, ObjectRoute, Target

_n = itertools.count(1)


def _inspection(ctx: Any) -> Any:
    from kefu.quality import services
    from kefu.quality.models import Inspection
    from kefu.tickets import services as tickets
    from kefu.tickets.tests.factories import make_ticket

    agent = ctx.user(f"iso_q_agent{next(_n)}", "desk_sh", Role.AGENT)
    t = make_ticket(agent)
    tickets.ticket_reply(actor=agent, ticket=t, method="call_back", content="您好，已为您处理。")
    services.sample_month(actor=None, month=timezone.localdate().replace(day=1))
    return Inspection.objects.unscoped("isolation fixture").get(contact_id=str(t.pk))


def _detail(ctx: Any) -> dict[str, Any]:
    return {"pk": _inspection(ctx).pk}


def _act(action: str):  # type: ignore[no-untyped-def]
    def make(ctx: Any) -> dict[str, Any]:
        return {"pk": _inspection(ctx).pk, "action": action}

    return make


def _api(action: str, body: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    def make(ctx: Any) -> Target:
        return Target(path={"inspection_id": _inspection(ctx).pk}, body=body)

    return make


def _marker(ctx: Any) -> str:
    return _inspection(ctx).contact_label


ROUTES = {
    "quality/": ListRoute(_marker),
    "quality/<int:pk>/": ObjectRoute(_detail),
    "quality/<int:pk>/act/<slug:action>/": ObjectRoute(_act("decide"), methods=("POST",)),
    "quality/sample/": NoObject(
        "samples the actor's own scope only (test_a_province_samples_only_its_own_desk)"
    ),
    "quality/report/": NoObject("aggregates of the actor's scope (test_report_...)"),
    "quality/report.xlsx": NoObject("aggregates of the actor's scope, as Excel"),
    "quality/settings/": NoObject("national scorecard weights (quality.configure)"),
    "quality/settings/save/": NoObject("national scorecard weights (quality.configure)"),
    "api:GET /api/quality/inspections": ListRoute(_marker),
    "api:GET /api/quality/inspections/{inspection_id}": ObjectRoute(_api("detail")),
    "api:POST /api/quality/inspections/{inspection_id}/score": ObjectRoute(
        _api("score", {"points": {}, "comment": "x"}), methods=("POST",)
    ),
    "api:POST /api/quality/inspections/{inspection_id}/acknowledge": ObjectRoute(
        _api("acknowledge", {}), methods=("POST",)
    ),
    "api:POST /api/quality/inspections/{inspection_id}/appeal": ObjectRoute(
        _api("appeal", {"reason": "x"}), methods=("POST",)
    ),
    "api:POST /api/quality/inspections/{inspection_id}/decide": ObjectRoute(
        _api("decide", {"final_score": 90, "comment": "x"}), methods=("POST",)
    ),
}
