"""Helpers for the web UI views: sign-in and permission guard, domain errors as pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from .errors import DomainError, NotFound

if TYPE_CHECKING:  # the org layer sits above core: only for the type checker
    from kefu.org.access import Actor


class AuthedRequest(HttpRequest):
    """A request after ``kefu.org.middleware``: ``actor`` is the signed-in (or token) user's Actor.

    Annotate a view's ``request: AuthedRequest`` (Django and ninja pass the same object) or read it
    with :func:`actor_of`; either way no ``type: ignore`` is needed for ``request.actor``.
    """

    actor: Actor


def actor_of(request: HttpRequest) -> Actor:
    """The request's Actor (set by the org middleware on every request)."""
    return cast(AuthedRequest, request).actor


View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def actor_required(permission: str | None = None) -> Callable[[View], View]:
    """Require a signed-in user with ``permission``; turn DomainErrors into an error page with their status.

    The view keeps its own type (a download view may return a ``FileResponse``)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            actor = actor_of(request)
            try:
                if permission is not None:
                    actor.require(permission)
                return view(request, *args, **kwargs)
            except DomainError as exc:
                return error_page(request, exc)

        return cast(View, wrapper)

    return decorator


def is_htmx(request: HttpRequest) -> bool:
    """Whether django-htmx marked the request as an htmx one (its ``request.htmx`` is falsy otherwise)."""
    return bool(getattr(request, "htmx", False))


def error_page(request: HttpRequest, exc: DomainError) -> HttpResponse:
    template = "core/_error_fragment.html" if is_htmx(request) else "core/error.html"
    # The typed input comes back only when fixing it can help (a refusal: 400, 409, 422). A 403 or
    # 404 page says nothing about what was sent, so it reads the same whether the object exists in
    # another province or not at all (tests/test_isolation.py).
    keep_input = exc.status in (400, 409, 422)
    return render(request, template, {"error": exc, "keep_input": keep_input}, status=exc.status)


def not_found_page(request: HttpRequest) -> HttpResponse:
    return error_page(request, NotFound())


def client_ip(request: HttpRequest) -> str:
    """The client's address, for throttles and rate limits (login, chat).

    By default the socket address. Behind one reverse proxy set
    KEFU_TRUST_X_FORWARDED_FOR=1: the proxy appends the client's address last
    (anything before it was written by the client and is not trusted).
    """
    if settings.KEFU_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return str(request.META.get("REMOTE_ADDR", ""))
