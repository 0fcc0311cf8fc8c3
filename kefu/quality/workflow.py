"""The inspection's states: scored by an inspector; the agent acknowledges (final) or appeals; a supervisor decides."""

from __future__ import annotations

from .models import Status

# (from, action) -> to
TRANSITIONS: dict[tuple[str, str], str] = {
    (Status.PENDING, "score"): Status.SCORED,
    (Status.SCORED, "score"): Status.SCORED,  # the inspector corrects before the agent answers
    (Status.SCORED, "acknowledge"): Status.FINAL,
    (Status.SCORED, "appeal"): Status.APPEALED,
    (Status.APPEALED, "decide"): Status.FINAL,
}


def target(status: str, action: str) -> str | None:
    return TRANSITIONS.get((status, action))
