"""API authentication: the browser session (with CSRF) or a bearer token."""

from __future__ import annotations

import time
from typing import Any, cast

from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from kefu.core.web import AuthedRequest

from .access import Actor, Seat, actor_for
from .models import ApiToken, Membership, Province, Team, Unit, User
from .services import token_authenticate

# The seats of a token's user in the token's team, kept per process for SEATS_SECONDS (issue #16.5:
# a create through the API then reads the token row only, not the memberships too). The token row is
# still read on every request, so a revoked token or a deactivated user is refused at once. A change
# to a membership, team, unit, province or user clears this process's copies at once (signals
# below); other processes see it within SEATS_SECONDS.
SEATS_SECONDS = 10.0
_seats: dict[tuple[int, int], tuple[float, tuple[Seat, ...]]] = {}


def token_actor(row: ApiToken) -> Actor:
    key = (row.user_id, row.team_id)
    at = time.monotonic()
    hit = _seats.get(key)
    if hit is not None and at - hit[0] < SEATS_SECONDS:
        return Actor(user=row.user, seats=hit[1])
    actor = actor_for(row.user, token_team_id=row.team_id)
    _seats[key] = (at, actor.seats)
    return actor


def token_actors_clear(**_: Any) -> None:
    _seats.clear()


for _model in (Membership, Team, Unit, Province, User):
    post_save.connect(
        token_actors_clear, sender=_model, dispatch_uid=f"org.token_actors.save.{_model.__name__}"
    )
    post_delete.connect(
        token_actors_clear, sender=_model, dispatch_uid=f"org.token_actors.delete.{_model.__name__}"
    )


class KefuSession(SessionAuth):
    def __call__(self, request: HttpRequest) -> Any:
        # Signed out (no session, or a bad bearer token before us) answers 401 like a GET does;
        # the CSRF check only means something for a signed-in browser, so it comes second (403).
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user:
            cast(AuthedRequest, request).actor = actor_for(user)
        return user


class KefuBearer(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        row = token_authenticate(token)
        if row is None:
            return None
        request.user = row.user
        cast(AuthedRequest, request).actor = token_actor(row)
        return row.user


API_AUTH = [KefuBearer(), KefuSession()]
