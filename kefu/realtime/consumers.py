"""The one socket: ``/ws/rt/``. Authentication, subscriptions, catch-up, actions, bad frames.

Protocol (JSON text frames; full description in docs/realtime.md):

client -> server
  {"type": "auth", "token": "<visitor token>"}            become a visitor (optional)
  {"type": "subscribe", "group": "team.3", "since": 12}   join; "since" resumes after seq 12
  {"type": "unsubscribe", "group": "team.3"}
  {"type": "ping"}
  {"type": "<app>.<verb>", "ref": "c1", ...}               an action registered by an app

server -> client
  {"type": "hello", "principal": "agent"|"visitor"|"anonymous"}
  {"type": "subscribed", "group", "seq", "reset"}        seq = latest in the group
  {"type": "event", "group", "seq", "event", "payload"}   seq null for ephemeral events
  {"type": "reply", "ref", "ok": true, "data"}
  {"type": "error", "code", "message", "message_en", "details", "ref"?}
  {"type": "pong"}
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import defaultdict
from typing import Any

from asgiref.sync import SyncToAsync
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import close_old_connections

from kefu.core import dbcheck
from kefu.core.errors import DomainError, ValidationFailed
from kefu.core.ratelimit import hit
from kefu.org.access import actor_for
from kefu.realtime.codes import RealtimeCode

from . import actions, groups, relay, services
from .principal import Principal

# Close codes (4000-4999 are the application's).
CLOSE_UNSUPPORTED = 1003
CLOSE_TOO_BIG = 1009
CLOSE_ORIGIN = 4403
CLOSE_TOKEN = 4401
CLOSE_FLOOD = 4429

log = logging.getLogger(__name__)

_open_per_address: dict[str, int] = defaultdict(int)


class _ActionSyncToAsync(SyncToAsync):
    """``database_sync_to_async`` for actions, with the connection health check at most once a second
    per connection (``kefu.core.dbcheck``) instead of a ``SELECT 1`` before every action. Stale and
    broken connections are still closed exactly as before (``close_old_connections``)."""

    def thread_handler(self, loop: Any, *args: Any, **kwargs: Any) -> Any:
        close_old_connections()
        conn, started, trusted = dbcheck.trust_recent_check()
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            dbcheck.note_check(conn, started, trusted)
            close_old_connections()


# Not thread-sensitive: actions of different sockets run side by side in the loop's pool (each
# thread its own database connection); the default would run every socket's actions one at a
# time in a single thread, whatever the number of cores and connections. Built once: the wrapper
# costs something to make, and this is the path of every chat message.
_run_action = _ActionSyncToAsync(actions.run, thread_sensitive=False)


def _env_int(name: str, default: int) -> int:
    """Socket limits an installation may raise (an agent watching many conversations, a load test)."""
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() else default


def _err(code: str, zh: str, en: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(zh, en, code=code, details=details or None)


class RealtimeConsumer(AsyncWebsocketConsumer):
    max_frame_bytes = 16 * 1024
    max_groups = _env_int("KEFU_WS_MAX_GROUPS", 20)
    frames_per_window = 20
    window_s = 10.0
    strikes_before_close = 3

    principal: Principal
    joined: dict[str, int]

    # -- lifecycle -------------------------------------------------------------
    async def connect(self) -> None:
        self.joined = {}
        self.strikes = 0
        self.window_start = time.monotonic()
        self.window_count = 0
        self.counted = False
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in self.scope.get("headers", [])}
        origin = headers.get("origin", "")
        client = self.scope.get("client") or ("", 0)
        address = str(client[0] or "")
        limit = int(getattr(settings, "KEFU_WS_MAX_PER_ADDRESS", _env_int("KEFU_WS_MAX_PER_ADDRESS", 200)))
        if _open_per_address[address] >= limit or not hit("ws-open", address, limit=limit, window_s=60):
            await self.close(code=CLOSE_FLOOD)
            return
        user = self.scope.get("user")
        if origin and not services.origin_is_own(origin):
            if not await database_sync_to_async(services.origin_is_embedding)(origin):
                await self.close(code=CLOSE_ORIGIN)
                return
            user = None  # an embedding site's page never rides a staff session
        actor = None
        if user is not None and user.is_authenticated:
            actor = await database_sync_to_async(actor_for)(user)
        self.principal = Principal(actor=actor, address=address, origin=origin)
        relay.ensure_started(self.channel_layer)
        _open_per_address[address] += 1
        self.counted = True
        await self.accept()
        await self.send_json({"type": "hello", "principal": self.principal.kind})

    async def disconnect(self, code: int) -> None:
        if getattr(self, "counted", False):
            address = self.principal.address
            _open_per_address[address] -= 1
            if _open_per_address[address] <= 0:
                _open_per_address.pop(address, None)
        if self.channel_layer is None:
            return
        for group in list(getattr(self, "joined", {})):
            await self.channel_layer.group_discard(services.layer_group(group), self.channel_name)
        token_id = self.principal.token_id if hasattr(self, "principal") else None
        if token_id is not None:
            await self.channel_layer.group_discard(services.token_layer_group(token_id), self.channel_name)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch without its per-message ``aclose_old_connections()``.

        Channels hops into its single sync thread to close stale database connections before every
        frame and every group event a socket handles (three hops per chat message: the sender's
        frame and one event per socket watching the conversation), all through that one thread.
        This consumer never touches the database from the loop: every read and write goes
        through ``database_sync_to_async``, which closes stale connections in its own thread.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # -- frames from the client ----------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if bytes_data is not None or text_data is None:
            await self.refuse(
                _err(
                    RealtimeCode.BINARY_FRAME, "只接受 JSON 文本帧。", "Only JSON text frames are accepted."
                ),
                close=CLOSE_UNSUPPORTED,
            )
            return
        if len(text_data.encode("utf-8", "surrogatepass")) > self.max_frame_bytes:
            await self.refuse(
                _err(
                    RealtimeCode.FRAME_TOO_LARGE, "消息过大。", "Frame too large.", limit=self.max_frame_bytes
                ),
                close=CLOSE_TOO_BIG,
            )
            return
        if not self._count_frame():
            self.strikes += 1
            close = CLOSE_FLOOD if self.strikes >= self.strikes_before_close else None
            await self.refuse(
                _err(RealtimeCode.RATE_LIMITED, "发送过于频繁，请稍后再试。", "Too many frames; slow down."),
                close=close,
            )
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.refuse(
                _err(RealtimeCode.BAD_JSON, "消息不是有效的 JSON。", "The frame is not valid JSON.")
            )
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.refuse(_err(RealtimeCode.BAD_FRAME, "消息缺少 type 字段。", "The frame has no type."))
            return
        ref = frame.get("ref")
        if ref is not None and not (isinstance(ref, str | int) and len(str(ref)) <= 64):
            ref = None
        try:
            await self.dispatch_frame(frame["type"], frame, ref)
        except DomainError as exc:
            await self.send_json(actions.error_frame(exc, ref))

    async def dispatch_frame(self, kind: str, frame: dict[str, Any], ref: Any) -> None:
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "auth":
            await self.authenticate_token(frame.get("token"), ref)
        elif kind == "subscribe":
            await self.subscribe(frame.get("group"), frame.get("since"), ref)
        elif kind == "unsubscribe":
            group = frame.get("group")
            if isinstance(group, str) and group in self.joined:
                del self.joined[group]
                await self.channel_layer.group_discard(services.layer_group(group), self.channel_name)
            await self.send_json({"type": "unsubscribed", "group": group, "ref": ref})
        else:
            # The action's pushes (sent after its commit) are collected and sent from here, in order,
            # before the reply: no worker thread blocks on a hop back into the loop.
            pushes: list[tuple[str, dict[str, Any]]] = []
            token = services.deferred_pushes.set(pushes)
            try:
                data = await _run_action(self.principal, kind, frame)
            finally:
                services.deferred_pushes.reset(token)
                await self.push(pushes)
            await self.send_json({"type": "reply", "ref": ref, "ok": True, "data": data})

    async def push(self, pushes: list[tuple[str, dict[str, Any]]]) -> None:
        for layer_group_name, message in pushes:
            try:
                await self.channel_layer.group_send(layer_group_name, message)
            except Exception:  # the event is stored; clients resume by seq
                log.exception("realtime: sending to %s failed", layer_group_name)

    async def authenticate_token(self, raw: Any, ref: Any) -> None:
        token = await database_sync_to_async(services.visitor_token_resolve)(raw)
        if token is None:
            await self.refuse(
                _err(
                    RealtimeCode.TOKEN_INVALID,
                    "会话凭证无效或会话已结束。",
                    "The token is invalid or the conversation has ended.",
                ),
                close=CLOSE_TOKEN,
                ref=ref,
            )
            return
        self.principal = Principal(
            token_id=token.pk,
            visitor_groups=frozenset(token.groups),
            address=self.principal.address,
            origin=self.principal.origin,
        )
        await self.channel_layer.group_add(services.token_layer_group(token.pk), self.channel_name)
        await self.send_json(
            {"type": "hello", "principal": "visitor", "groups": sorted(token.groups), "ref": ref}
        )

    async def subscribe(self, group: Any, since: Any, ref: Any) -> None:
        if since is not None and (not isinstance(since, int) or isinstance(since, bool) or since < 0):
            raise _err(
                RealtimeCode.BAD_SINCE, "since 必须是非负整数。", "since must be a non-negative integer."
            )
        allowed = await database_sync_to_async(self._may_join)(group)
        if not allowed:
            raise groups.join_refused()
        assert isinstance(group, str)
        if group not in self.joined and len(self.joined) >= self.max_groups:
            raise _err(
                RealtimeCode.TOO_MANY_GROUPS,
                "订阅的推送组过多。",
                "Too many subscriptions.",
                limit=self.max_groups,
            )
        await self.channel_layer.group_add(services.layer_group(group), self.channel_name)
        reset = False
        if since is None:
            self.joined[group] = await database_sync_to_async(services.latest_seq)(group)
        else:
            frames, latest, reset = await database_sync_to_async(services.events_since)(group, since, 500)
            if reset:
                self.joined[group] = latest  # the client reloads its state; live events follow
            else:
                for f in frames:
                    await self.send_json(f)
                self.joined[group] = frames[-1]["seq"] if frames else since
        await self.send_json(
            {"type": "subscribed", "group": group, "seq": self.joined[group], "reset": reset, "ref": ref}
        )

    def _may_join(self, group: Any) -> bool:
        groups.parse(group)
        return groups.may_join(self.principal, group)

    # -- messages from the channel layer ----------------------------------------
    async def rt_event(self, message: dict[str, Any]) -> None:
        frame = message["frame"]
        group = frame["group"]
        if group not in self.joined:
            return
        seq = frame["seq"]
        if seq is None:
            await self.send_json(frame)
            return
        last = self.joined[group]
        if seq <= last:
            return  # already delivered (catch-up raced the live send)
        if seq == last + 1:
            self.joined[group] = seq
            await self.send_json(frame)
            return
        # A gap: something committed earlier has not arrived yet, or was sent out
        # of order. Read the log so the client gets everything in order.
        frames, _latest, _reset = await database_sync_to_async(services.events_since)(group, last, 500)
        for f in frames:
            if f["seq"] > self.joined[group]:
                self.joined[group] = f["seq"]
                await self.send_json(f)

    async def rt_revoked(self, message: dict[str, Any]) -> None:
        await self.refuse(
            _err(
                RealtimeCode.TOKEN_REVOKED,
                "会话已结束，凭证已失效。",
                "The conversation has ended; the token is no longer valid.",
            ),
            close=CLOSE_TOKEN,
        )

    # -- helpers -------------------------------------------------------------
    def _count_frame(self) -> bool:
        now = time.monotonic()
        if now - self.window_start >= self.window_s:
            self.window_start, self.window_count = now, 0
        self.window_count += 1
        return self.window_count <= self.frames_per_window

    async def refuse(self, exc: DomainError, *, close: int | None = None, ref: Any = None) -> None:
        await self.send_json(actions.error_frame(exc, ref))
        if close is not None:
            await self.close(code=close)

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content, ensure_ascii=False))
