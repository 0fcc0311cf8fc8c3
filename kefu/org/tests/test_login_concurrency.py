"""Login throttling under 50 parallel wrong guesses, with real threads and real transactions (PostgreSQL)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection, connections

from conftest import make_user
from kefu.core.errors import DomainError
from kefu.org import services
from kefu.org.models import LoginThrottle, Role

ATTEMPTS = 50


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_wrong_passwords_reach_the_check_only_max_failures_times(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: SQLite serialises writers, so threads cannot race the row lock here "
            "(./kefu.sh test runs this on PostgreSQL)"
        )
    make_user("target_bj", "desk_bj", Role.AGENT)
    checked = 0
    lock = threading.Lock()
    real_authenticate = services.authenticate

    def counting_authenticate(*args, **kwargs):
        nonlocal checked
        with lock:
            checked += 1
        return real_authenticate(*args, **kwargs)

    monkeypatch.setattr(services, "authenticate", counting_authenticate)
    start = threading.Barrier(ATTEMPTS)

    def attempt(i: int) -> str:
        try:
            start.wait()
            services.login_attempt(
                request=None, username="target_bj", password=f"guess-{i}", client_ip="203.0.113.7"
            )
        except DomainError as exc:
            return exc.code
        finally:
            connections.close_all()
        return "logged_in"

    with ThreadPoolExecutor(max_workers=ATTEMPTS) as pool:
        codes = list(pool.map(attempt, range(ATTEMPTS)))

    limit = settings.KEFU_LOGIN_MAX_FAILURES
    assert checked == limit
    assert codes.count("login_failed") == limit
    assert codes.count("login_throttled") == ATTEMPTS - limit
    assert LoginThrottle.objects.get(key="user:target_bj").failures == limit
    # Every attempt, checked or refused, counts against the address, up to its own (higher) limit.
    per_address = settings.KEFU_LOGIN_MAX_FAILURES_PER_ADDRESS
    assert LoginThrottle.objects.get(key="ip:203.0.113.7").failures == min(ATTEMPTS, per_address)
