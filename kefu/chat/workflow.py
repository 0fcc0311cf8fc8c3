"""The conversation's states and who may move it: one table, pinned by a test."""

from __future__ import annotations

WAITING, ACTIVE, CLOSED, ABANDONED = "waiting", "active", "closed", "abandoned"

# action -> (states it may start from, state it ends in)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "accept": (frozenset({WAITING}), ACTIVE),
    "transfer": (frozenset({WAITING, ACTIVE}), WAITING),
    "close": (frozenset({ACTIVE}), CLOSED),
    "idle_close": (frozenset({ACTIVE}), CLOSED),
    "visitor_leave": (frozenset({WAITING, ACTIVE}), CLOSED),  # from WAITING it ends ABANDONED (below)
}
OPEN = frozenset({WAITING, ACTIVE})


def target(action: str, status: str) -> str | None:
    """The state after ``action`` from ``status``, or None when not allowed."""
    sources, to = TRANSITIONS[action]
    if status not in sources:
        return None
    if action == "visitor_leave" and status == WAITING:
        return ABANDONED
    return to
