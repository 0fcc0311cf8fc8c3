"""schemathesis over /api/openapi.json (issues #15.17 and #17): every operation, as an agent, a
supervisor and an analyst, every check (no server error, status codes and bodies as documented).

In process against the WSGI application, inside the test's database transaction; a bounded
number of examples per operation (KEFU_FUZZ_EXAMPLES, default 6) keeps it to a few minutes.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from config.wsgi import application
from kefu.org.models import Role, Team
from kefu.org.services import token_issue

EXAMPLES = int(os.environ.get("KEFU_FUZZ_EXAMPLES", "6"))
# positive_data_acceptance (a schema-valid body must be accepted): KEFU_FUZZ_POSITIVE=1 turns it on.
POSITIVE = os.environ.get("KEFU_FUZZ_POSITIVE", "") == "1"
ROLES = (
    ("fuzz_agent", "desk_bj", Role.AGENT),
    ("fuzz_lead", "desk_bj", Role.SUPERVISOR),
    ("fuzz_analyst", "hq_service", Role.ANALYST),
)

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Calling the WSGI app directly fires request_started/finished, whose close_old_connections
    would close the connection that holds the test's transaction (PostgreSQL, CONN_MAX_AGE > 0).
    Django's own test client disconnects them the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer_headers(make_actor) -> list[dict[str, str]]:
    headers = []
    for username, team, role in ROLES:
        actor = make_actor(username, team, role)
        _, secret = token_issue(actor=actor, team=Team.objects.get(code=team), name="fuzz")
        # The WSGI transport does not undo GZipMiddleware: ask for plain bodies, as a client may.
        headers.append({"Authorization": f"Bearer {secret}", "Accept-Encoding": "identity"})
    return headers


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_api_keeps_its_contract(case, bearer_headers):
    for headers in bearer_headers:
        # positive_data_acceptance (a schema-valid body must be accepted) is left out until every
        # input schema states its business rules (non-empty names, known codes): docs/foundation.md.
        case.call_and_validate(
            headers=headers, excluded_checks=[] if POSITIVE else [positive_data_acceptance]
        )
