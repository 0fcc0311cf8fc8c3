"""The HTTP fallback for networks that block WebSocket: long-poll for events, POST for actions.

Same principal, same scoping rule, same frames as the socket (``consumers.py``).
Visitors send their token in the ``X-Kefu-Token`` header; signed-in users
use their session (and, for POST, the CSRF token).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from kefu.core.errors import DomainError, ValidationFailed
from kefu.core.ratelimit import hit
from kefu.core.web import client_ip
from kefu.org.access import actor_for
from kefu.realtime.codes import RealtimeCode

from . import actions, groups, services
from .principal import Principal

MAX_WAIT_S = 20
POLL_STEP_S = 0.5
MAX_GROUPS = 20


def _json(body: dict[str, Any], status: int = 200, origin: str = "") -> JsonResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Headers"] = "Content-Type, X-Kefu-Token"
        response["Vary"] = "Origin"
    return response


def _principal(request: HttpRequest) -> tuple[Principal, str]:
    """Who asks, and the origin to allow in CORS ("" for our own pages). Raises for a foreign origin."""
    origin = request.headers.get("Origin", "")
    address = client_ip(request)
    cors = ""
    use_session = True
    if origin and not services.origin_is_own(origin):
        if not services.origin_is_embedding(origin):
            raise ValidationFailed(
                "不允许的来源。", "Origin not allowed.", code=RealtimeCode.ORIGIN_REFUSED, status=403
            )
        cors, use_session = origin, False
    raw = request.headers.get("X-Kefu-Token")
    if raw:
        token = services.visitor_token_resolve(raw)
        if token is None:
            raise ValidationFailed(
                "会话凭证无效或会话已结束。",
                "The token is invalid or the conversation has ended.",
                code=RealtimeCode.TOKEN_INVALID,
                status=401,
            )
        return Principal(
            token_id=token.pk, visitor_groups=frozenset(token.groups), address=address, origin=origin
        ), cors
    user = getattr(request, "user", None)
    if use_session and user is not None and user.is_authenticated:
        return Principal(actor=actor_for(user), address=address, origin=origin), cors
    return Principal(address=address, origin=origin), cors


def request_principal(request: HttpRequest) -> tuple[Principal, str]:
    """The principal of an HTTP request and the CORS origin to answer (for other apps' endpoints)."""
    return _principal(request)


def require_csrf(request: HttpRequest) -> None:
    """Signed-in users' POSTs carry the CSRF token (visitors' token header is not sent by browsers on its own)."""
    rejected = CsrfViewMiddleware(_noop).process_view(request, _noop, (), {})
    if rejected is not None:
        raise ValidationFailed("CSRF 校验失败。", "CSRF check failed.", code=RealtimeCode.CSRF, status=403)


def json_response(body: dict[str, Any], status: int = 200, origin: str = "") -> JsonResponse:
    return _json(body, status=status, origin=origin)


def _cursors(request: HttpRequest) -> dict[str, int]:
    """``?g=team.3:12&g=user.5:0`` -> {"team.3": 12, "user.5": 0}."""
    values = request.GET.getlist("g")
    if not values or len(values) > MAX_GROUPS:
        raise ValidationFailed(
            f"请用 g=<推送组>:<序号> 指定 1 到 {MAX_GROUPS} 个推送组。",
            f"Give 1 to {MAX_GROUPS} groups as g=<group>:<seq>.",
            code=RealtimeCode.BAD_POLL,
        )
    cursors: dict[str, int] = {}
    for value in values:
        group, _, since = value.rpartition(":")
        if not group or not since.isdigit() or len(since) > 18:
            raise ValidationFailed(
                "g 的格式应为 <推送组>:<序号>。", "g must be <group>:<seq>.", code=RealtimeCode.BAD_POLL
            )
        groups.parse(group)
        cursors[group] = int(since)
    return cursors


def _poll_once(principal: Principal, cursors: dict[str, int]) -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    latest: dict[str, int] = {}
    resets: list[str] = []
    for group, since in cursors.items():
        if not groups.may_join(principal, group):
            raise groups.join_refused()
        frames, seq, reset = services.events_since(group, since, 200)
        if reset:
            resets.append(group)
            latest[group] = seq
            continue
        out.extend(frames)
        latest[group] = frames[-1]["seq"] if frames else since
    return {"events": out, "cursors": latest, "reset": resets}


@csrf_exempt  # visitors have no session; signed-in users are checked below (origin + CSRF)
@require_http_methods(["GET", "OPTIONS"])
async def poll(request: HttpRequest) -> HttpResponse:
    """Wait up to ``wait`` seconds (≤ 20) for events after the given cursors."""
    cors = ""
    try:
        principal, cors = await sync_to_async(_principal)(request)
        if request.method == "OPTIONS":
            return _json({}, origin=cors)
        if not hit("rt-poll", principal.key, limit=120, window_s=60):
            raise ValidationFailed(
                "请求过于频繁。", "Too many requests.", code=RealtimeCode.RATE_LIMITED, status=429
            )
        cursors = _cursors(request)
        wait_raw = request.GET.get("wait", "0")
        wait = min(int(wait_raw), MAX_WAIT_S) if wait_raw.isdigit() else 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            body = await sync_to_async(_poll_once)(principal, cursors)
            if body["events"] or body["reset"] or loop.time() >= deadline:
                return _json(body, origin=cors)
            await asyncio.sleep(POLL_STEP_S)
    except DomainError as exc:
        return _json(exc.as_dict(), status=exc.status, origin=cors)


def _noop(request: HttpRequest) -> HttpResponse:  # a callback CSRF is enforced on (``act`` itself is exempt)
    return HttpResponse()


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def act(request: HttpRequest) -> HttpResponse:
    """Run one action frame (``{"type": "chat.send", ...}``) over HTTP; the answer is the socket's reply frame."""
    cors = ""
    try:
        principal, cors = _principal(request)
        if request.method == "OPTIONS":
            return _json({}, origin=cors)
        if principal.kind == "agent":
            require_csrf(request)
        if not hit("rt-act", principal.key, limit=60, window_s=60):
            raise ValidationFailed(
                "请求过于频繁。", "Too many requests.", code=RealtimeCode.RATE_LIMITED, status=429
            )
        try:
            frame = json.loads(request.body or b"")
        except ValueError:
            raise ValidationFailed(
                "请求体不是有效的 JSON。", "The body is not valid JSON.", code=RealtimeCode.BAD_JSON
            ) from None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            raise ValidationFailed(
                "消息缺少 type 字段。", "The frame has no type.", code=RealtimeCode.BAD_FRAME
            )
        data = actions.run(principal, frame["type"], frame)
        return _json({"type": "reply", "ref": frame.get("ref"), "ok": True, "data": data}, origin=cors)
    except DomainError as exc:
        return _json(exc.as_dict(), status=exc.status, origin=cors)
