"""API authentication: the browser session (with CSRF) or a bearer token."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from .access import actor_for
from .services import token_authenticate


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
            request.actor = actor_for(user)  # type: ignore[attr-defined]
        return user


class KefuBearer(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        row = token_authenticate(token)
        if row is None:
            return None
        request.user = row.user
        request.actor = actor_for(row.user, token_team_id=row.team_id)  # type: ignore[attr-defined]
        return row.user


API_AUTH = [KefuBearer(), KefuSession()]
