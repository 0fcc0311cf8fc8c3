from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from kefu.core.codes import CoreCode

from .errors import Forbidden, NotFound
from .registry import HOME_PANELS
from .web import actor_of, actor_required, error_page

log = logging.getLogger(__name__)


@actor_required()
def home(request: HttpRequest) -> HttpResponse:
    """The landing page: each role sees the panels of what it must do now."""
    actor = actor_of(request)
    panels = []
    for panel in HOME_PANELS:
        if panel.permission is not None and not actor.can(panel.permission):
            continue
        context = panel.render(request)
        if context is not None:
            panels.append({"template": panel.template, "context": context})
    return render(request, "core/home.html", {"panels": panels})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy", named below
        log.warning("healthz: database check failed: %s", exc)
        return type(exc).__name__
    return None


HEALTH_CHECKS = {"database": _check_database}


def healthz(request: HttpRequest) -> HttpResponse:
    """200 when every check passes; 503 naming the failing checks (a load balancer takes us out)."""
    failing = {}
    for name, check in HEALTH_CHECKS.items():
        error = check()
        if error is not None:
            failing[name] = error
    if failing:
        body = {"status": "unavailable", "failing": sorted(failing), "errors": failing}
        response = JsonResponse(body, status=503)
    else:
        response = JsonResponse({"status": "ok", "checks": sorted(HEALTH_CHECKS)})
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    lang = request.POST.get("language", "")
    if lang not in dict(settings.LANGUAGES):
        lang = settings.LANGUAGE_CODE
    nxt = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = "/"
    response = HttpResponseRedirect(nxt)
    translation.activate(lang)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, lang, max_age=365 * 24 * 3600, samesite="Lax")
    return response


# -- error pages (config/urls.py handler404/handler500, settings.CSRF_FAILURE_VIEW) ----------


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """An unknown address looks exactly like a denied or missing object."""
    return error_page(request, NotFound())


def server_error(request: HttpRequest) -> HttpResponse:
    # No template context processors here: the failure may be in them.
    from django.template import loader

    html = loader.get_template("core/500.html").render({})
    return HttpResponse(html, status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    exc = Forbidden(
        "页面已过期或请求来源无效，请刷新页面后重试。",
        "The page has expired or the request's origin is not valid; reload the page and try again.",
        code=CoreCode.CSRF_FAILED,
    )
    return error_page(request, exc)
