"""schemathesis over /api/openapi.json (issues #15.17 and #17): every operation, as an agent, a
supervisor and an analyst, every check (no server error, status codes and bodies as documented).

In process against the WSGI application, inside the test's database transaction; a bounded
number of examples per operation (KEFU_FUZZ_EXAMPLES, default 6) keeps it to a few minutes.

positive_data_acceptance is on: a request the document calls valid must not be refused. The one
exception is a 422 whose error code, or every field it names, ROW_REFERENCES lists: a value that
must name an existing row (a category code, a username) or a rule across fields or parameters that
JSON Schema cannot state. 404 (a missing id) and 409 (a state conflict) are schemathesis's own allowed answers.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

from config.wsgi import application
from kefu.org.models import Role, Team
from kefu.org.services import token_issue

EXAMPLES = int(os.environ.get("KEFU_FUZZ_EXAMPLES", "6"))
# positive_data_acceptance (schema-valid input must be accepted): on unless KEFU_FUZZ_POSITIVE=0.
POSITIVE = os.environ.get("KEFU_FUZZ_POSITIVE", "1") != "0"
ROLES = (
    ("fuzz_agent", "desk_bj", Role.AGENT),
    ("fuzz_lead", "desk_bj", Role.SUPERVISOR),
    ("fuzz_analyst", "hq_service", Role.ANALYST),
)

# NUL is refused by the middleware before any operation reads the request (400 nul_character, the
# same for every field): a transport rule, not a schema one, so the generator leaves it out.
CONFIG = SchemathesisConfig.from_dict({"generation": {"allow-x00": False}})
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application, config=CONFIG)

# The stateful run (links inferred from the document: a created customer's id fed to its contacts, …)
# takes its token from an auth provider, so schemathesis knows the credentials are given, not generated;
# the built-in positive check is off there too, positive_data_accepted below stands in for it.
STATEFUL_CONFIG = SchemathesisConfig.from_dict(
    {"generation": {"allow-x00": False}, "checks": {"positive_data_acceptance": {"enabled": False}}}
)
stateful_schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application, config=STATEFUL_CONFIG)
STATEFUL_EXAMPLES = int(os.environ.get("KEFU_FUZZ_STATEFUL_EXAMPLES", "10"))
_SEAT: dict[str, str] = {}


@stateful_schema.auth()
class SeatToken:
    def get(self, case, ctx):
        return _SEAT["authorization"]

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": data, "Accept-Encoding": "identity"}


# operation -> {field or error code: why a schema-valid request may still get a 422 naming it}
ROW_REFERENCES: dict[str, dict[str, str]] = {
    "GET /api/customers/lookup": {
        "phone": "phone or q: at least one (JSON Schema cannot require one of two query parameters)",
    },
    "GET /api/tickets": {
        "category": "a category code names a row of tickets.Category (codes are data, not an enum)",
        "province": "a province code or slug names a row of org.Province",
    },
    "POST /api/customers": {
        "province": "a province code or slug names a row of org.Province",
        "account_manager": "a username that is an active account manager of the province: one answer "
        "for a missing user and for another province's (it must tell nothing of other provinces)",
    },
    "PATCH /api/customers/{customer_id}": {
        "province": "a province code or slug names a row of org.Province",
        "account_manager": "a username that is an active account manager of the province (as above)",
    },
    "POST /api/customers/{customer_id}/contacts": {
        "email": "Django's address validator (quoted local parts, IDN domains: no pattern says it all)",
        "phones": "the numbers, each once",
        "phone": "a number in an assigned range (phonenumbers' metadata, not a pattern)",
        "invalid_phone": "the same, with its own error code",
    },
    "PATCH /api/customers/contacts/{contact_id}": {
        "email": "Django's address validator (as above)",
    },
    "POST /api/customers/contacts/{contact_id}/phones": {
        "phone": "a number in an assigned range (phonenumbers' metadata, not a pattern)",
        "invalid_phone": "the same, with its own error code",
    },
    "GET /api/calls/rates": {
        "date_to": "on or after date_from and at most 366 days on: a rule across two parameters",
    },
    "GET /api/reports/dashboard": {
        "invalid_category": "category names a row of tickets.Category (codes are data, not an enum)",
        "range_too_long": "month_from to month_to spans at most 36 months: a rule across two parameters",
    },
}


def _fields_named(body: object) -> set[str]:
    details = body.get("details") if isinstance(body, dict) else None
    fields = details.get("fields") if isinstance(details, dict) else details
    if not isinstance(fields, list):
        return set()
    return {str(f.get("field", "")) for f in fields if isinstance(f, dict)}


def refusal_is_documented(operation: str, status: int, body: object) -> bool:
    """A schema-valid request's 422 is legitimate when ROW_REFERENCES lists its error code, or every
    field it names (a generic validation_error)."""
    allowed = ROW_REFERENCES.get(operation, {})
    if status != 422 or not isinstance(body, dict):
        return False
    if body.get("code") in allowed:
        return True
    named = _fields_named(body)
    return bool(named) and named <= set(allowed)


@schemathesis.check
def positive_data_accepted(ctx, response, case):
    """schemathesis's positive_data_acceptance, but for the refusals ROW_REFERENCES documents."""
    if not POSITIVE:
        return None
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if refusal_is_documented(case.operation.label, response.status_code, _json(response)):
            return None
        raise


def _json(response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


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
        # positive_data_accepted stands in for the built-in check (see ROW_REFERENCES).
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])


@pytest.mark.django_db
def test_api_keeps_its_contract_across_calls(bearer_headers):
    """Sequences of calls (create, then read, change, delete what was created), as each role."""
    for headers in bearer_headers:
        _SEAT["authorization"] = headers["Authorization"]
        stateful_schema.as_state_machine().run(
            settings=settings(
                max_examples=STATEFUL_EXAMPLES,
                stateful_step_count=6,
                deadline=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
        )


def test_a_refusal_counts_as_documented_only_for_the_listed_fields():
    lookup = "GET /api/customers/lookup"
    body = {"code": "validation_error", "details": {"fields": [{"field": "phone"}]}}
    assert refusal_is_documented(lookup, 422, body)
    assert not refusal_is_documented(lookup, 400, body)
    assert not refusal_is_documented("GET /api/tickets", 422, body)
    other = {"code": "validation_error", "details": {"fields": [{"field": "phone"}, {"field": "q"}]}}
    assert not refusal_is_documented(lookup, 422, other)
    assert not refusal_is_documented(lookup, 422, {"code": "validation_error", "details": None})
    dashboard = "GET /api/reports/dashboard"
    assert refusal_is_documented(dashboard, 422, {"code": "range_too_long", "details": None})
    assert not refusal_is_documented(dashboard, 422, {"code": "invalid_month", "details": None})
    assert not refusal_is_documented(dashboard, 400, {"code": "range_too_long", "details": None})
