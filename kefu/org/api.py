from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Router, Schema, Status

from kefu.core.api import OneOf, StrictSchema, Text
from kefu.core.errors import NotFound
from kefu.core.web import actor_of

from . import selectors, services
from .models import ApiToken, Role, Team

router = Router(tags=["org"])


class SeatOut(Schema):
    team_code: str
    team_name: str
    team_kind: Annotated[str, OneOf(Team.Kind)]
    unit_code: str
    province_code: str
    role: Annotated[str, OneOf(Role)]


class MeOut(Schema):
    username: str
    display_name: str
    national: bool
    province_codes: list[str]
    permissions: list[str]
    seats: list[SeatOut]


class ProvinceOut(Schema):
    code: str
    slug: str
    name: str


class TokenIn(StrictSchema):
    name: Annotated[str, Text(60)]
    team_code: str


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    team_code: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str


@router.get("/me", response=MeOut, summary="当前用户 / Current user")
def me(request: HttpRequest) -> dict:
    actor = actor_of(request)
    return selectors.me(actor)


@router.get("/provinces", response=list[ProvinceOut], summary="省份(报表顺序) / Provinces in report order")
def provinces(request: HttpRequest) -> list[ProvinceOut]:
    actor = actor_of(request)
    return [
        ProvinceOut(code=p.code, slug=p.slug, name=p.name) for p in selectors.provinces_in_scope(actor.scope)
    ]


def _token_out(t: ApiToken, secret: str | None = None) -> dict:
    out = {
        "id": t.pk,
        "name": t.name,
        "prefix": t.prefix,
        "team_code": t.team.code,
        "created_at": t.created_at,
        "last_used_at": t.last_used_at,
        "revoked_at": t.revoked_at,
    }
    if secret is not None:
        out["token"] = secret
    return out


@router.get("/tokens", response=list[TokenOut], summary="我的 API 令牌 / My API tokens")
def tokens(request: HttpRequest) -> list[dict]:
    actor = actor_of(request)
    return [_token_out(t) for t in selectors.tokens_of(actor)]


@router.post("/tokens", response={201: TokenCreatedOut}, summary="签发令牌 / Issue a token")
def token_create(request: HttpRequest, payload: TokenIn) -> Status:
    actor = actor_of(request)
    team = selectors.team_of_actor(actor, payload.team_code)
    token, secret = services.token_issue(actor=actor, team=team, name=payload.name)
    return Status(201, _token_out(token, secret))


@router.delete("/tokens/{token_id}", response={204: None}, summary="吊销令牌 / Revoke a token")
def token_delete(request: HttpRequest, token_id: int) -> Status:
    actor = actor_of(request)
    token = selectors.token_of(actor, token_id)
    if token is None:
        raise NotFound()
    services.token_revoke(actor=actor, token=token)
    return Status(204, None)
