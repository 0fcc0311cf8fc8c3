"""The incident status workflow as one table. Pure: no database.

investigating → identified → monitoring → resolved → reviewed. An incident may
skip ahead (a fault found and fixed at once goes straight to resolved) and may
fall back from monitoring to identified when the fix does not hold. Only
``services.incident_set_status`` writes ``Incident.status``; ``tests/test_workflow.py``
pins the table.
"""

from __future__ import annotations

INVESTIGATING, IDENTIFIED, MONITORING, RESOLVED, REVIEWED = (
    "investigating",
    "identified",
    "monitoring",
    "resolved",
    "reviewed",
)
OPEN_STATUSES = frozenset({INVESTIGATING, IDENTIFIED, MONITORING})

# (source, target)
TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        (INVESTIGATING, IDENTIFIED),
        (INVESTIGATING, MONITORING),
        (INVESTIGATING, RESOLVED),
        (IDENTIFIED, MONITORING),
        (IDENTIFIED, RESOLVED),
        (MONITORING, IDENTIFIED),
        (MONITORING, RESOLVED),
        (RESOLVED, REVIEWED),
    }
)


def allowed(source: str, target: str) -> bool:
    return (source, target) in TRANSITIONS


def next_statuses(source: str) -> list[str]:
    order = [INVESTIGATING, IDENTIFIED, MONITORING, RESOLVED, REVIEWED]
    return [t for t in order if (source, t) in TRANSITIONS]


def is_open(status: str) -> bool:
    return status in OPEN_STATUSES
