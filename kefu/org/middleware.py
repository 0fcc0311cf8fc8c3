from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from .access import Actor, actor_for


class ActorMiddleware:
    """Attach ``request.actor`` (memberships, permissions, scope) for a signed-in user, lazily."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        def build() -> Actor | None:
            user = request.user
            return actor_for(user) if user.is_authenticated else None  # type: ignore[arg-type]

        request.actor = SimpleLazyObject(build)  # type: ignore[attr-defined]
        return self.get_response(request)
