"""The API keeps its own contract (issue #17): bounded inputs, unique schema names, documented answers."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from config.api import api
from kefu.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

HUGE = 2**70


def _client(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


def _field_errors(response) -> list[str]:
    assert response.status_code == 422, (response.status_code, response.content.decode())
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["message"] and body["message_en"]
    return [d["field"] for d in body["details"]["fields"]]


# -- #17.1 every integer input is range-checked in the schema layer ----------------------------


def test_an_id_beyond_64_bits_in_the_path_is_a_422_not_a_500(hq_reviewer):
    response = _client(hq_reviewer).get(f"/api/knowledge/articles/{297140761470493328140763582693376}")
    assert _field_errors(response) == ["article_id"]


def test_an_id_beyond_64_bits_in_the_query_is_a_422(agent_bj):
    response = _client(agent_bj).get("/api/knowledge/receipts", {"revision_id": HUGE})
    assert "revision_id" in _field_errors(response)


def test_an_id_beyond_64_bits_in_the_body_is_a_422_for_every_role(agent_bj, hq_analyst):
    ticket = make_ticket(agent_bj, kind="consultation")
    body = {"version": ticket.version, "resolution": "已解答", "article_id": HUGE}
    for actor in (agent_bj, hq_analyst):
        response = _client(actor).post(
            f"/api/tickets/{ticket.number}/resolve", json.dumps(body), content_type="application/json"
        )
        assert "article_id" in _field_errors(response), actor.user.username


def test_the_largest_64_bit_id_is_simply_not_found(hq_reviewer):
    response = _client(hq_reviewer).get(f"/api/knowledge/articles/{2**63 - 1}")
    assert response.status_code == 404
    assert _client(hq_reviewer).get(f"/api/knowledge/articles/{2**63}").status_code == 422


def test_the_document_publishes_the_bounds():
    schema = api.get_openapi_schema()
    params = schema["paths"]["/api/knowledge/articles/{article_id}"]["get"]["parameters"]
    article_id = next(p for p in params if p["name"] == "article_id")["schema"]
    assert article_id["maximum"] == 2**63 - 1


# -- #17.3 dates are dates --------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "1700000000", "2026-1-1", "yesterday"])
def test_a_number_or_a_loose_string_is_not_a_date(agent_bj, value):
    response = _client(agent_bj).get("/api/tickets", {"date_from": value})
    assert "date_from" in _field_errors(response)


def test_an_iso_date_is_a_date_and_filters(agent_bj):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    t = make_ticket(agent_bj, now=datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    client = _client(agent_bj)
    before = client.get("/api/tickets", {"date_from": "2026-03-10"})
    after = client.get("/api/tickets", {"date_from": "2026-03-11"})
    assert (before.status_code, after.status_code) == (200, 200)
    assert t.number in [row["number"] for row in before.json()["items"]]
    assert t.number not in [row["number"] for row in after.json()["items"]]


# -- #17.2 unique schema names ----------------------------------------------------------------


def _models_by_name() -> dict[str, set[type]]:
    from pydantic import BaseModel

    from kefu.core.api import _models_in

    seen: dict[str, set[type]] = {}
    stack: list[type[BaseModel]] = []
    for router in api._get_bound_routers():
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                stack.extend(operation.models)
                for response_model in (operation.response_models or {}).values():
                    if response_model is not None:
                        stack.extend(_models_in(response_model))
    done: set[type] = set()
    while stack:
        model = stack.pop()
        if model in done:
            continue
        done.add(model)
        if model.__module__.startswith(
            "kefu."
        ):  # ninja's own per-operation wrappers are never published by name
            seen.setdefault(model.__name__, set()).add(model)
        for fld in model.model_fields.values():
            stack.extend(_models_in(fld.annotation))
    return seen


def test_every_schema_name_in_the_document_names_one_class():
    doubled = {
        name: sorted(f"{c.__module__}.{c.__qualname__}" for c in classes)
        for name, classes in _models_by_name().items()
        if len(classes) > 1
    }
    assert doubled == {}


def test_the_published_rate_row_is_the_one_the_rates_route_returns(agent_bj):
    schema = api.get_openapi_schema()["components"]["schemas"]
    rates = _client(agent_bj).get("/api/sla/rates").json()
    row_ref = schema["RatesOut"]["properties"]["rows"]["items"]["$ref"].rsplit("/", 1)[-1]
    published = set(schema[row_ref]["properties"])
    for row in rates["rows"]:
        assert set(row) == published
    assert {"accepted", "on_time", "pending", "projected_rate"} <= published


# -- #17.4 signed out and forbidden answer first ------------------------------------------------

WRITES = [
    ("post", "/api/tickets", {"kind": "consultation"}),
    ("patch", "/api/customers/1", {"name": "x"}),
    ("post", "/api/tickets/KF000/resolve", {"version": 1, "resolution": "x"}),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic abc"])
def test_a_write_without_or_with_a_bad_token_is_401_not_a_csrf_failure(method, path, body, authorization):
    client = Client(enforce_csrf_checks=True)
    headers = {"Authorization": authorization} if authorization else {}
    response = getattr(client, method)(
        path, json.dumps(body), content_type="application/json", headers=headers
    )
    assert response.status_code == 401, response.content.decode()
    assert response.json()["code"] == "unauthenticated"


def test_a_signed_in_browser_write_without_csrf_is_still_refused(agent_bj):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent_bj.user)
    response = client.post(
        "/api/tickets", json.dumps({"kind": "consultation"}), content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"


def test_a_viewer_is_refused_before_the_article_or_the_version_is_looked_at(agent_bj, hq_analyst):
    ticket = make_ticket(agent_bj, kind="consultation")
    client = _client(hq_analyst)
    for body in (
        {"version": ticket.version, "resolution": "x", "article_id": 987654321},
        {"version": ticket.version + 5, "resolution": "x"},
    ):
        response = client.post(
            f"/api/tickets/{ticket.number}/resolve", json.dumps(body), content_type="application/json"
        )
        assert response.status_code == 403, response.content.decode()
        assert response.json()["code"] == "permission_denied"


# -- #17.3 every operation documents its 4xx answers with the one error body -------------------


def test_every_operation_documents_its_error_answers():
    schema = api.get_openapi_schema()
    assert set(schema["components"]["schemas"]["ErrorOut"]["required"]) == {
        "code",
        "message",
        "message_en",
        "details",
    }
    missing = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            responses = {int(k) for k in operation["responses"]}
            want = {400, 401, 403}
            if any(p["in"] == "path" for p in operation.get("parameters", [])):
                want |= {404, 422}
            if method in ("post", "patch", "put", "delete"):
                want |= {404, 409}
            if "requestBody" in operation:
                want |= {413, 415, 422}
            if not want <= responses:
                missing.append((method.upper(), path, sorted(want - responses)))
    assert missing == []


# -- #17.5 over-long URLs ------------------------------------------------------------------------


def test_an_over_long_url_gets_the_api_error_body(agent_bj):
    response = _client(agent_bj).get("/api/tickets", {"q": "x" * 5000})
    assert response.status_code == 414
    body = response.json()
    assert body["code"] == "uri_too_long" and body["message"] and body["message_en"]
    assert _client(agent_bj).get("/api/tickets/" + "A" * 5000).status_code == 414


# -- #17.3 closed sets are enums; optional means optional; nullability agrees ----------------------

# (schema, property) pairs that must be published as an enum: the closed sets of the main resources.
ENUM_PROPERTIES = [
    ("TicketOut", "kind"),
    ("TicketOut", "channel"),
    ("TicketOut", "status"),
    ("TicketOut", "topic"),
    ("TicketOut", "acceptance_outcome"),
    ("HopOut", "status"),
    ("HopOut", "reason_code"),
    ("ReplyOut", "method"),
    ("CreateIn", "kind"),
    ("PhoneOut", "kind"),
    ("CustomerOut", "industry"),
]


def _enum_of(prop: dict) -> list | None:
    if "enum" in prop:
        return prop["enum"]
    for alt in prop.get("anyOf", []) + prop.get("allOf", []):
        if "enum" in alt:
            return alt["enum"]
    return None


def test_closed_sets_of_values_are_enums_in_the_document():
    schemas = api.get_openapi_schema()["components"]["schemas"]
    missing = [(s, p) for s, p in ENUM_PROPERTIES if not _enum_of(schemas[s]["properties"][p])]
    assert missing == []
    assert {"hotline", "online", "province_desk"} <= set(
        _enum_of(schemas["TicketOut"]["properties"]["channel"])
    )
    params = api.get_openapi_schema()["paths"]["/api/tickets"]["get"]["parameters"]
    status = next(p for p in params if p["name"] == "status")
    assert "" in _enum_of(status["schema"]) and "open" in _enum_of(status["schema"])


def test_a_value_outside_the_closed_set_is_a_422_naming_the_field(agent_bj):
    response = _client(agent_bj).get("/api/tickets", {"status": "no-such-status"})
    assert "status" in _field_errors(response)


def test_customer_lookup_with_neither_parameter_is_the_documented_422(agent_bj):
    operation = api.get_openapi_schema()["paths"]["/api/customers/lookup"]["get"]
    assert 422 in {int(k) for k in operation["responses"]} and "phone" in operation["description"]
    assert all(not p.get("required") for p in operation["parameters"])  # both optional, as in the code
    assert _field_errors(_client(agent_bj).get("/api/customers/lookup")) == ["phone"]


def test_null_is_refused_exactly_where_the_document_says_not_nullable(lead_js):
    from kefu.customers.models import Contact, Customer
    from kefu.org.models import Province

    schemas = api.get_openapi_schema()["components"]["schemas"]
    email = schemas["ContactPatch"]["properties"]["email"]
    assert email.get("type") == "string" and "anyOf" not in email  # not nullable
    manager = schemas["CustomerPatch"]["properties"]["account_manager"]
    assert {"type": "null"} in manager["anyOf"]  # null clears: documented as nullable

    customer = Customer.objects.create(
        name="空值测试", account_number="N0001", province=Province.objects.get(slug="js")
    )
    contact = Contact.objects.create(customer=customer, name="张三", email="a@example.cn")
    client = _client(lead_js)
    response = client.patch(
        f"/api/customers/contacts/{contact.pk}",
        json.dumps({"version": contact.version, "email": None}),
        content_type="application/json",
    )
    assert "email" in _field_errors(response)
    contact.refresh_from_db()
    assert contact.email == "a@example.cn"


# -- #17.1 (session 4) no closed set published as free text ------------------------------------------

# The last word of a property or query parameter that names a closed set of values.
CLOSED_SET_WORDS = {
    "action",
    "actions",
    "channel",
    "counting",
    "decision",
    "direction",
    "format",
    "group",
    "impact",
    "kind",
    "method",
    "outcome",
    "period",
    "purpose",
    "queue",
    "result",
    "role",
    "scope",
    "severity",
    "state",
    "status",
    "statuses",
    "target",
    "topic",
    "type",
}
# Named like a closed set but open, and why.
OPEN_SETS = {
    ("ClockOut", "owner_type"): "an SLA clock's owner is whatever app registered it (sla knows no owners)",
    ("NoticeOut", "owner_type"): "the same owner registry as a clock's",
    ("ClockOut", "ticket_kind"): "sla sits below tickets (import-linter): it does not know the order kinds",
    ("PolicyOut", "ticket_kind"): "the same: a policy names an order kind sla cannot import",
    ("PolicyOut", "pause_statuses"): "order statuses, which sla cannot import",
    ("RatesOut", "ticket_kind"): "the order kind echoed back; sla cannot import the kinds",
    ("GET /api/sla/rates", "ticket_kind"): "the same order kind as a filter ('' = every kind)",
    ("RatesQuery", "ticket_kind"): "the same filter, as the query's schema",
    ("AttachmentOut", "content_type"): "the uploaded file's MIME type",
    ("FieldProblem", "type"): "the error body (kefu.core.errors): pydantic's and the services' problem types",
    ("HopOut", "result"): "承办结果: the team's free-text account of what it did",
    ("ReturnResultIn", "result"): "the same free text, written when returning the result",
    ("MonthlyOut", "scope"): "the audience: 'national' or a province slug (rows of org.Province)",
}


def _is_string(prop: dict) -> bool:
    if prop.get("type") == "string":
        return True
    if prop.get("type") == "array":
        return _is_string(prop.get("items", {}))
    return any(_is_string(alt) for alt in prop.get("anyOf", []))


def _has_enum(prop: dict) -> bool:
    if "enum" in prop or "const" in prop:
        return True
    if prop.get("type") == "array":
        return _has_enum(prop.get("items", {}))
    return any(_has_enum(alt) for alt in prop.get("anyOf", []) + prop.get("allOf", []))


def _free_text_closed_sets(document: dict) -> set[tuple[str, str]]:
    found = set()
    for name, schema in document["components"]["schemas"].items():
        for prop_name, prop in schema.get("properties", {}).items():
            if prop_name.rsplit("_", 1)[-1] in CLOSED_SET_WORDS and _is_string(prop) and not _has_enum(prop):
                found.add((name, prop_name))
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            for param in operation.get("parameters", []):
                last = param["name"].rsplit("_", 1)[-1]
                if (
                    last in CLOSED_SET_WORDS
                    and _is_string(param["schema"])
                    and not _has_enum(param["schema"])
                ):
                    found.add((f"{method.upper()} {path}", param["name"]))
    return found


def test_no_closed_set_is_published_as_free_text():
    found = _free_text_closed_sets(api.get_openapi_schema())
    assert found - set(OPEN_SETS) == set()
    assert set(OPEN_SETS) - found == set(), "an open set listed here is gone or has become an enum"


def test_the_scan_finds_a_closed_set_without_an_enum():
    document = {
        "components": {"schemas": {"X": {"properties": {"status": {"type": "string"}}}}},
        "paths": {"/x": {"get": {"parameters": [{"name": "kind", "schema": {"type": "string"}}]}}},
    }
    assert _free_text_closed_sets(document) == {("X", "status"), ("GET /x", "kind")}


# (path, query) pairs: a value outside the closed set is a 422 naming the parameter, before any lookup.
OUT_OF_SET = [
    ("/api/calls", {"outcome": "lost"}, "outcome"),
    ("/api/quality/inspections", {"status": "closed"}, "status"),
    ("/api/knowledge/search", {"q": "会议", "scope": "public"}, "scope"),
    ("/api/reports/dashboard", {"kind": "praise"}, "kind"),
    ("/api/reports/dashboard", {"channel": "fax"}, "channel"),
    ("/api/sla/rates", {"group": "city"}, "group"),
    ("/api/tickets/categories", {"kind": "praise"}, "kind"),
]


@pytest.mark.parametrize(("path", "query", "field"), OUT_OF_SET)
def test_a_query_value_outside_its_closed_set_is_a_422(hq_analyst, path, query, field):
    assert field in _field_errors(_client(hq_analyst).get(path, query))


# -- a boolean in a JSON body is true or false ----------------------------------------------------


def test_a_number_for_a_boolean_in_a_body_is_a_422_and_a_query_string_boolean_still_reads(lead_js):
    body = {"name": "布尔测试", "account_number": "BOOL-0001", "province": "js", "is_active": 0}
    client = _client(lead_js)
    response = client.post("/api/customers", json.dumps(body), content_type="application/json")
    assert _field_errors(response) == ["is_active"]
    body["is_active"] = False
    assert client.post("/api/customers", json.dumps(body), content_type="application/json").status_code == 201
    listed = client.get("/api/customers", {"is_active": "false"})
    assert listed.status_code == 200
    assert [c["account_number"] for c in listed.json()["items"]] == ["BOOL-0001"]
