"""Pages: the agent console, the visitor's chat window (public), the queue fragment, the figures."""

from __future__ import annotations

from datetime import date, timedelta

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from kefu.chat.codes import ChatCode
from kefu.core.errors import DomainError, NotFound, ValidationFailed
from kefu.core.middleware import CSP
from kefu.core.web import actor_of, actor_required
from kefu.org.models import Team
from kefu.realtime.models import AllowedOrigin
from kefu.realtime.templatetags.realtime import socket_url
from kefu.realtime.views import json_response, request_principal, require_csrf
from kefu.tickets.selectors import leaf_category_choices

from . import figures, files, services
from .models import Presence, Transfer


@actor_required("chat.work")
def console(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
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
    actor = actor_of(request)
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
    actor = actor_of(request)
    today = timezone.localdate()
    try:
        end = date.fromisoformat(request.GET.get("end") or today.isoformat())
        start = date.fromisoformat(request.GET.get("start") or (end - timedelta(days=6)).isoformat())
    except ValueError:
        raise ValidationFailed(
            "日期格式应为 YYYY-MM-DD。", "Dates are YYYY-MM-DD.", fields=[{"field": "start"}]
        ) from None
    if start > end or (end - start).days > 366:
        raise ValidationFailed(
            "统计期间无效(最长一年)。", "Invalid period (at most one year).", fields=[{"field": "start"}]
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
    response = _with_socket_csp(request, response, frame_ancestors=f"'self' {origins}".strip())
    # Images the visitor receives are fetched with the token header and shown from blob: URLs.
    response["Content-Security-Policy"] = response["Content-Security-Policy"].replace(
        "img-src 'self' data:", "img-src 'self' data: blob:"
    )
    return response


@require_GET
def embed_script(request: HttpRequest) -> HttpResponse:
    """``embed.js`` at a stable address for the operator's sites (the static copy's name carries a hash)."""
    from django.contrib.staticfiles import finders

    found = finders.find("chat/embed.js")
    if not found:
        raise NotFound()
    path = found if isinstance(found, str) else found[0]
    with open(path, "rb") as fh:
        body = fh.read()
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=3600"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"  # loaded by <script> on the allowed sites
    return response


def _conversation_id(value: str | None) -> int:
    if not value or not value.isdigit() or len(value) > 12:
        raise ValidationFailed(
            "会话编号不正确。", "Invalid conversation.", fields=[{"field": "conversation"}]
        )
    return int(value)


@csrf_exempt  # visitors have no session (token header); signed-in agents are CSRF-checked below
@require_http_methods(["POST", "OPTIONS"])
def upload(request: HttpRequest) -> HttpResponse:
    """Send an image or a file into a conversation (multipart: conversation, client_id, file).

    The same principal rule as ``/rt/act``: a visitor by ``X-Kefu-Token`` (own conversation),
    an agent by session + CSRF (holding the conversation). The answer is the socket's reply
    frame; the message itself arrives as a ``chat.message`` event of kind ``file``.
    """
    cors = ""
    try:
        principal, cors = request_principal(request)
        if request.method == "OPTIONS":
            return json_response({}, origin=cors)
        if principal.kind == "agent":
            require_csrf(request)
        got = request.FILES.get("file")
        if got is None:
            raise ValidationFailed(
                "请选择要上传的文件。", "Choose a file to upload.", fields=[{"field": "file"}]
            )
        up = files.Upload(name=got.name or "", content=got.read(files.MAX_BYTES + 1))
        conversation = _conversation_id(request.POST.get("conversation"))
        client_id = request.POST.get("client_id", "")
        if principal.actor is not None:
            m = services.agent_file_send(
                actor=principal.actor, conversation_id=conversation, upload=up, client_id=client_id
            )
        elif principal.token_id is not None:
            m = services.visitor_file_send(
                groups=principal.visitor_groups,
                token_id=principal.token_id,
                conversation_id=conversation,
                upload=up,
                client_id=client_id,
                address=principal.address,
            )
        else:
            raise ValidationFailed(
                "请先登录或开始会话。",
                "Sign in or start a conversation first.",
                code=ChatCode.UNAUTHORIZED,
                status=401,
            )
        data = {"seq": m.seq, "id": m.pk, "client_id": m.client_id, "file": m.data.get("file")}
        return json_response({"type": "reply", "ok": True, "data": data}, origin=cors)
    except DomainError as exc:
        return json_response(exc.as_dict(), status=exc.status, origin=cors)


@require_GET
@actor_required("chat.work")
def file_download(request: HttpRequest, pk: int) -> FileResponse:
    """An agent opens a file of a conversation of their teams; ``?inline=1`` shows an image (thumbnails)."""
    actor = actor_of(request)
    a = services.file_for_agent(actor, pk)
    return files.download_response(a, inline_image=request.GET.get("inline") == "1")


@require_GET
def visitor_file(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A visitor fetches a file of their own conversation with the token header (no cookie, no URL secret)."""
    cors = ""
    try:
        principal, cors = request_principal(request)
        if principal.token_id is None:
            raise NotFound()
        a = services.file_for_visitor(principal.visitor_groups, pk)
    except DomainError as exc:
        return json_response(exc.as_dict(), status=exc.status, origin=cors)
    response = files.download_response(a, inline_image=request.GET.get("inline") == "1")
    if cors:
        response["Access-Control-Allow-Origin"] = cors
        response["Vary"] = "Origin"
    return response
