"""ConnectionCheckMiddleware: Django's SELECT 1 on a kept connection at most once a second (#16.5)."""

from __future__ import annotations

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client

from kefu.core.middleware import ConnectionCheckMiddleware
from kefu.org.models import Team
from kefu.org.services import token_issue


@pytest.mark.django_db(transaction=True)  # autocommit, as a kept connection between requests is
def test_a_kept_connection_is_checked_once_a_second_and_again_after_an_error(agent_bj, monkeypatch):
    conn = connections[DEFAULT_DB_ALIAS]
    if not conn.health_check_enabled:
        pytest.skip("health checks are on for PostgreSQL's kept connections, not SQLite's")
    _row, secret = token_issue(actor=agent_bj, team=Team.objects.get(code="desk_bj"), name="check")
    http = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    checks = []
    real = conn.is_usable
    monkeypatch.setattr(conn, "is_usable", lambda: checks.append(1) or real())
    clock = [1000.0]
    conn.__dict__.pop("_kefu_checked_at", None)  # an earlier test's request on this connection
    monkeypatch.setattr("kefu.core.dbcheck.time.monotonic", lambda: clock[0])

    def request() -> None:
        conn.close_if_unusable_or_obsolete()  # what request_started does in production
        assert http.get("/api/me").status_code == 200

    request()
    assert len(checks) == 1
    for _ in range(3):  # within the second: trusted
        clock[0] += 0.2
        request()
    assert len(checks) == 1
    clock[0] += ConnectionCheckMiddleware.CHECK_EVERY_S  # a second after the check: checked again
    request()
    assert len(checks) == 2
    clock[0] += 0.1
    conn.errors_occurred = True  # an error since: Django tests it at the start of the next request
    request()
    assert len(checks) == 3
