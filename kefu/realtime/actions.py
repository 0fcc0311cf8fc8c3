"""Requests a client sends over the socket (or the HTTP fallback), registered by higher apps.

A frame ``{"type": "chat.send", "ref": "c1", ...}`` runs the handler registered
under ``chat.send`` with the principal and the frame; its dict comes back as
``{"type": "reply", "ref": "c1", "ok": true, "data": {...}}``; a DomainError as
``{"type": "error", "ref": "c1", "code", "message", "message_en", "details"}``.
Handlers are synchronous (they run in a worker thread) and do their own
authorisation with the principal; realtime only checks the principal's kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kefu.core.errors import DomainError, ValidationFailed
from kefu.realtime.codes import RealtimeCode

from .principal import Principal

Handler = Callable[[Principal, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Action:
    name: str
    handler: Handler
    principals: frozenset[str]  # "agent", "visitor", "anonymous"


_ACTIONS: dict[str, Action] = {}
RESERVED = {"subscribe", "unsubscribe", "ping", "auth"}


def register_action(
    name: str, handler: Handler, *, principals: tuple[str, ...] = ("agent", "visitor")
) -> None:
    if name in RESERVED or "." not in name:
        raise ValueError(f"action names are '<app>.<verb>' and not {sorted(RESERVED)}")
    _ACTIONS[name] = Action(name, handler, frozenset(principals))


def registered_actions() -> dict[str, Action]:
    return dict(_ACTIONS)


def unknown_action(name: object) -> ValidationFailed:
    return ValidationFailed(
        "不支持的消息类型。",
        "Unsupported frame type.",
        code=RealtimeCode.BAD_FRAME,
        details={"type": str(name)[:64]},
    )


def run(principal: Principal, name: str, frame: dict[str, Any]) -> dict[str, Any]:
    """Run one action; raises DomainError for anything refused."""
    action = _ACTIONS.get(name)
    if action is None:
        raise unknown_action(name)
    if principal.kind not in action.principals:
        raise ValidationFailed(
            "请先登录或开始会话。", "Sign in or start a conversation first.", code=RealtimeCode.UNAUTHORIZED
        )
    return action.handler(principal, frame)


def error_frame(exc: DomainError, ref: Any = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", **exc.as_dict()}
    if ref is not None:
        frame["ref"] = ref
    return frame
