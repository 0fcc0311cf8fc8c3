"""Where higher apps plug into the SLA app without it importing them.

* ``on_expired(owner_type, kind, handler)``: the sweep calls
  ``handler(owner_id, clock, now)`` inside its transaction, once, when a running
  clock of that owner type and kind reaches its deadline (tickets registers the
  auto-accept of a hop whose 2-hour accept clock ran out).
* ``register_owner_link(owner_type, fn)``: ``fn(owner_ids) -> {owner_id: (label, url)}``
  so that supervisors' lists link to the work order behind a clock.

Apps register in ``AppConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Clock

ExpiredHandler = Callable[[int, "Clock", datetime], Any]
OwnerLinker = Callable[[Iterable[int]], dict[int, tuple[str, str]]]

_EXPIRED: dict[tuple[str, str], ExpiredHandler] = {}
_LINKS: dict[str, OwnerLinker] = {}


def on_expired(owner_type: str, kind: str, handler: ExpiredHandler) -> None:
    _EXPIRED[(owner_type, kind)] = handler


def expired_handler(owner_type: str, kind: str) -> ExpiredHandler | None:
    return _EXPIRED.get((owner_type, kind))


def register_owner_link(owner_type: str, fn: OwnerLinker) -> None:
    _LINKS[owner_type] = fn


def owner_links(owner_type: str, owner_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    fn = _LINKS.get(owner_type)
    if fn is None:
        return {}
    return fn(list(owner_ids))
