from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from kefu.core.web import AuthedRequest

from .access import Actor, actor_for


class ActorMiddleware:
    """Attach ``request.actor`` (memberships, permissions, scope) for a signed-in user, lazily."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        def build() -> Actor | None:
            user = request.user
            return actor_for(user) if user.is_authenticated else None

        # The lazy object stands in for the Actor (None when signed out: actor_required checks the user first).
        cast(AuthedRequest, request).actor = cast(Actor, SimpleLazyObject(build))
        return self.get_response(request)
