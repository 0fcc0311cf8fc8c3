"""Isolation table for accounts and API tokens (see tests/isolation_spec.py).

Tokens belong to a user, teams to a province: a Beijing supervisor may not see,
revoke or issue a token for a Shanghai user's or team's, and gets the 404 of a
missing one.
"""

from __future__ import annotations

from typing import Any

from kefu.org import services
from tests.isolation_spec import ListRoute, NoObject, ObjectRoute, Public, Target


def shanghai_token(ctx: Any) -> dict[str, Any]:
    token, _secret = services.token_issue(actor=ctx.owner, team=_team(ctx), name="上海令牌")
    return {"token_id": token.pk}


def shanghai_token_marker(ctx: Any) -> str:
    token, _secret = services.token_issue(actor=ctx.owner, team=_team(ctx), name="上海令牌")
    return token.prefix


def shanghai_team(ctx: Any) -> Target:
    return Target(
        body={"name": "越权令牌", "team_code": "desk_sh"},
        missing_body={"name": "越权令牌", "team_code": "desk_nowhere"},
    )


def _team(ctx: Any) -> Any:
    from kefu.org.models import Team

    return Team.objects.get(pk=ctx.owner.seats[0].team_id)


def shanghai_province(ctx: Any) -> str:
    return ctx.province.code


ROUTES = {
    "accounts/login/": Public("the login page"),
    "accounts/logout/": NoObject("ends the caller's own session"),
    "accounts/password/": NoObject("the caller's own password"),
    "accounts/tokens/": [
        ListRoute(make=shanghai_token_marker),
        ObjectRoute(make=shanghai_team, methods=("POST",)),
    ],
    "accounts/tokens/<int:token_id>/revoke/": ObjectRoute(make=shanghai_token, methods=("POST",)),
    "api:GET /api/me": NoObject("the caller's own account"),
    "api:GET /api/provinces": ListRoute(make=shanghai_province),
    "api:GET /api/tokens": ListRoute(make=shanghai_token_marker),
    "api:POST /api/tokens": ObjectRoute(make=shanghai_team),
    "api:DELETE /api/tokens/{token_id}": ObjectRoute(make=shanghai_token),
}
