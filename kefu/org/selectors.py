from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from kefu.core.errors import NotFound
from kefu.core.scope import Scope

from .access import Actor
from .models import ApiToken, Province, Team
from .roles import MATRIX


def provinces_in_scope(scope: Scope) -> QuerySet[Province]:
    qs = Province.objects.order_by("report_order")
    if scope.national:
        return qs
    return qs.filter(pk__in=scope.province_ids)


def me(actor: Actor) -> dict[str, Any]:
    scope = actor.scope
    codes = [p.code for p in provinces_in_scope(scope)] if not scope.national else []
    return {
        "username": actor.user.username,
        "display_name": actor.user.display_name or actor.user.username,
        "national": scope.national,
        "province_codes": codes,
        "permissions": sorted(p for p in MATRIX if actor.can(p)),
        "seats": [s.__dict__ for s in actor.seats],
    }


def team_of_actor(actor: Actor, team_code: str) -> Team:
    team = Team.objects.filter(code=team_code, pk__in=[s.team_id for s in actor.seats]).first()
    if team is None:
        raise NotFound()
    return team


def tokens_of(actor: Actor) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=actor.user).select_related("team").order_by("-created_at")


def token_of(actor: Actor, token_id: int) -> ApiToken | None:
    return tokens_of(actor).filter(pk=token_id).first()
