"""Pages: the agent console, the visitor's chat window (public), the queue fragment, the figures."""

from __future__ import annotations

from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_exempt

from kefu.core.errors import ValidationFailed
from kefu.core.middleware import CSP
from kefu.core.web import actor_required
from kefu.org.models import Team
from kefu.realtime.models import AllowedOrigin
from kefu.realtime.templatetags.realtime import socket_url
from kefu.tickets.selectors import leaf_category_choices

from . import figures, services
from .models import Presence, Transfer


@actor_required("chat.work")
def console(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    presence = Presence.objects.filter(user=actor.user).first()
    teams = sorted(services.visible_team_ids(actor))
    response = render(
        request,
        "chat/console.html",
        {
            "teams": teams,
            "presence": presence.status if presence else Presence.Status.OFFLINE,
            "presence_choices": Presence.Status.choices,
            "reasons": Transfer.Reason.choices,
            "transfer_teams": Team.objects.filter(kind__in=["online", "hotline", "province_desk"])
            .select_related("province")
            .order_by("kind", "province__report_order"),
            "categories": leaf_category_choices(),
            **_queue_context(request),
        },
    )
    return _with_socket_csp(request, response)


def _with_socket_csp(
    request: HttpRequest, response: HttpResponse, frame_ancestors: str = "'none'"
) -> HttpResponse:
    """The shell's CSP, plus the socket server's origin in connect-src (daphne listens on its own port)."""
    ws = socket_url(request)
    ws_origin = ws.split("/ws/", 1)[0]
    csp = CSP.replace("connect-src 'self'", f"connect-src 'self' {ws_origin}")
    response["Content-Security-Policy"] = csp.replace(
        "frame-ancestors 'none'", f"frame-ancestors {frame_ancestors}"
    )
    return response


def _queue_context(request: HttpRequest) -> dict[str, object]:
    actor = request.actor  # type: ignore[attr-defined]
    lists = services.waiting_and_mine(actor)
    now = timezone.now()
    for c in lists["waiting"]:
        c.waited_s = int((now - c.created_at).total_seconds())  # type: ignore[attr-defined]
    return {**lists, "cap": _cap()}


def _cap() -> int:
    try:
        return services.chat_settings().max_concurrent
    except Exception:
        return 5


@actor_required("chat.work")
def queue(request: HttpRequest) -> HttpResponse:
    return render(request, "chat/_queue.html", _queue_context(request))


@actor_required("chat.stats")
def stats(request: HttpRequest) -> HttpResponse:
    """Online-service figures for a period (default the last 7 days, Beijing dates); ?format=xlsx for Excel."""
    actor = request.actor  # type: ignore[attr-defined]
    today = timezone.localdate()
    try:
        end = date.fromisoformat(request.GET.get("end") or today.isoformat())
        start = date.fromisoformat(request.GET.get("start") or (end - timedelta(days=6)).isoformat())
    except ValueError:
        raise ValidationFailed(
            "日期格式应为 YYYY-MM-DD。", "Dates are YYYY-MM-DD.", details=[{"field": "start"}]
        ) from None
    if start > end or (end - start).days > 366:
        raise ValidationFailed(
            "统计期间无效(最长一年)。", "Invalid period (at most one year).", details=[{"field": "start"}]
        )
    f = figures.compute(figures.conversations_for(actor), start, end)
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            figures.excel(f), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="chat-{start}-{end}.xlsx"'
        return response
    peak = max(f.per_day.values(), default=0) or 1
    return render(request, "chat/stats.html", {"f": f, "peak": peak})


@xframe_options_exempt  # the embeddable script shows this page in a frame on the operator's own sites
def visit(request: HttpRequest) -> HttpResponse:
    """The visitor's chat window: no login. Name, unit and phone (optional), then the conversation."""
    origins = " ".join(AllowedOrigin.objects.filter(is_active=True).values_list("origin", flat=True))
    response = render(request, "chat/visit.html", {})
    return _with_socket_csp(request, response, frame_ancestors=f"'self' {origins}".strip())
