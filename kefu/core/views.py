from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .registry import HOME_PANELS
from .web import actor_required


@actor_required()
def home(request: HttpRequest) -> HttpResponse:
    """The landing page: each role sees the panels of what it must do now."""
    actor = request.actor  # type: ignore[attr-defined]
    panels = []
    for panel in HOME_PANELS:
        if panel.permission is not None and not actor.can(panel.permission):
            continue
        context = panel.render(request)
        if context is not None:
            panels.append({"template": panel.template, "context": context})
    return render(request, "core/home.html", {"panels": panels})


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


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
