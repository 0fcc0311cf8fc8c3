"""Django's health check of a kept database connection, at most once a second per connection.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of every unit of work
(an HTTP request, a socket action) on a kept connection: a round trip and a statement each time, on
the busiest paths a tenth of what the application itself costs. A connection whose check passed less
than ``CHECK_EVERY_S`` ago, and which has shown no database error since, is trusted for the next unit.
A connection that raised an error is still tested by Django at the start of the next one, and one
past ``CONN_MAX_AGE`` still closed; only a database restart shorter than a second can now cost the
work that follows it an error, which clients retry (every write takes an Idempotency-Key).

Callers: ``kefu.core.middleware.ConnectionCheckMiddleware`` (requests) and the socket actions of
``kefu.realtime.consumers``, each after Django's ``close_old_connections`` and before the work.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

CHECK_EVERY_S = 1.0


def trust_recent_check() -> tuple[Any, float, bool]:
    """Before a unit of work: skip the check when this connection's last one is recent enough.
    Returns what ``note_check`` needs afterwards."""
    conn: Any = connections[DEFAULT_DB_ALIAS]
    started = time.monotonic()
    trusted = False
    if conn.connection is not None and conn.health_check_enabled and not conn.health_check_done:
        checked = conn.__dict__.get("_kefu_checked_at")
        if checked is not None and 0 <= started - checked < CHECK_EVERY_S:
            conn.health_check_done = trusted = True
    return conn, started, trusted


def note_check(conn: Any, started: float, trusted: bool) -> None:
    """After the unit of work (before ``close_old_connections`` resets Django's flag): when Django
    checked the connection during it (``health_check_done``) and no error followed, remember when."""
    if not trusted and conn.health_check_done and conn.connection is not None and not conn.errors_occurred:
        conn._kefu_checked_at = started
