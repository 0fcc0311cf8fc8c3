"""Group names and the one rule for who may join which group.

A group name is ``<kind>.<key>``: ``user.<id>``, ``team.<id>``, ``province.<id>``,
``public.<name>`` are built in; higher apps add kinds (``chat.<id>``) with
``register_kind`` in their ``AppConfig.ready()``. The rule:

* ``public.*``: anyone, signed in or not (the FAQ pages' banners);
* a visitor token: exactly the groups written into the token, plus ``public.*``;
* a signed-in user: ``user.<own id>``, ``team.<id>`` of a team they sit in,
  ``province.<id>`` their scope covers, and a registered kind when its
  ``authorize(actor, key)`` says yes.

Everything else is refused, with the same answer for a group that exists and
one that does not.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from kefu.core.errors import ValidationFailed
from kefu.org.access import Actor
from kefu.realtime.codes import RealtimeCode

from .principal import Principal

# Channel-layer group names allow [A-Za-z0-9-_.] and fewer than 100 characters.
GROUP_RE = re.compile(r"^([a-z][a-z_]{1,30})\.([A-Za-z0-9_-]{1,60})$")
BUILTIN_KINDS = ("user", "team", "province", "public")


@dataclass(frozen=True)
class GroupKind:
    """A kind of group a higher app adds.

    ``authorize(actor, key)`` decides for signed-in users (runs in a worker thread,
    may read the database). ``reader(group, since_seq, limit)``, when given, says
    the app keeps the log of this kind itself (with its own sequence numbers):
    realtime then stores nothing for it and asks the reader on resume and poll.
    It returns ``(events, latest_seq)`` where each event is ``(seq, event, payload)``.
    """

    name: str
    authorize: Callable[[Actor, str], bool]
    reader: Callable[[str, int, int], tuple[list[tuple[int, str, dict]], int]] | None = None


_KINDS: dict[str, GroupKind] = {}


def register_kind(kind: GroupKind) -> None:
    if kind.name in BUILTIN_KINDS:
        raise ValueError(f"group kind {kind.name!r} is built in")
    _KINDS[kind.name] = kind


def registered_kind(name: str) -> GroupKind | None:
    return _KINDS.get(name)


def bad_group(group: object) -> ValidationFailed:
    return ValidationFailed(
        "推送组名称不合法。",
        "Invalid group name.",
        code=RealtimeCode.BAD_GROUP,
        details={"group": str(group)[:100]},
    )


def parse(group: object) -> tuple[str, str]:
    """``"team.12"`` -> ``("team", "12")``; anything malformed or of an unknown kind is refused."""
    if not isinstance(group, str):
        raise bad_group(group)
    m = GROUP_RE.match(group)
    if m is None:
        raise bad_group(group)
    kind, key = m.group(1), m.group(2)
    if kind not in BUILTIN_KINDS and kind not in _KINDS:
        raise bad_group(group)
    if kind in ("user", "team", "province") and not key.isdigit():
        raise bad_group(group)
    return kind, key


def may_join(principal: Principal, group: str) -> bool:
    """The scoping rule. ``group`` must already have passed ``parse``."""
    kind, key = parse(group)
    if kind == "public":
        return True
    if principal.token_id is not None:
        return group in principal.visitor_groups
    actor = principal.actor
    if actor is None or not actor.seats:
        return False
    if kind == "user":
        return int(key) == actor.user.pk
    if kind == "team":
        return actor.in_team(int(key))
    if kind == "province":
        return actor.scope.covers(int(key))
    registered = _KINDS[kind]
    return bool(registered.authorize(actor, key))


def join_refused() -> ValidationFailed:
    # One answer for "not yours" and "does not exist": a 404-like refusal.
    return ValidationFailed(
        "无权订阅该推送组，或推送组不存在。",
        "You may not subscribe to this group, or it does not exist.",
        code=RealtimeCode.GROUP_REFUSED,
    )
