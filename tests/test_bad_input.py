"""Bad input on the API: always a 4xx in the error shape, never a 500, nothing written.

The write target is ``POST /api/tokens`` (and the token web form for form-encoded input).
"""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from kefu.core.models import AuditEvent
from kefu.org.models import ApiToken

pytestmark = pytest.mark.django_db
CJK = re.compile(r"[\u4e00-\u9fff]")
GOOD = {"name": "工单对接", "team_code": "desk_bj"}


@pytest.fixture
def api(agent_bj) -> Client:
    client = Client()
    client.force_login(agent_bj.user)
    return client


def written() -> tuple[int, int]:
    return ApiToken.objects.count(), AuditEvent.objects.count()


def assert_refused(response, status: int | None = None, code: str | None = None) -> dict:
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if status is not None:
        assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "message_en", "details"}, body
    assert CJK.search(body["message"]), f"message not in Chinese: {body['message']!r}"
    assert body["message_en"] and not CJK.search(body["message_en"])
    if code is not None:
        assert body["code"] == code, body
    return body


def post_raw(
    client: Client, data: bytes | str, content_type: str = "application/json", url: str = "/api/tokens"
):
    return client.generic("POST", url, data, content_type=content_type)


def test_the_good_request_is_accepted(api):
    response = post_raw(api, json.dumps(GOOD))
    assert response.status_code == 201
    assert written() == (1, 1)


CASES = {
    "malformed json": (b'{"name": "x", "team_code": ', 400, None),
    "json that is not an object": (b'["desk_bj"]', 422, "validation_error"),
    "empty body": (b"", 422, "validation_error"),
    "unknown field": (json.dumps({**GOOD, "is_admin": True}), 422, "validation_error"),
    "read-only field prefix": (json.dumps({**GOOD, "prefix": "deadbeef"}), 422, "validation_error"),
    "read-only field id": (json.dumps({**GOOD, "id": 1}), 422, "validation_error"),
    "read-only field revoked_at": (json.dumps({**GOOD, "revoked_at": None}), 422, "validation_error"),
    "wrong type for name": (json.dumps({"name": 5, "team_code": "desk_bj"}), 422, "validation_error"),
    "wrong type for team": (json.dumps({"name": "x", "team_code": ["desk_bj"]}), 422, "validation_error"),
    "missing field": (json.dumps({"name": "x"}), 422, "validation_error"),
    "blank name": (json.dumps({"name": "   ", "team_code": "desk_bj"}), 422, "validation_error"),
    "name too long": (json.dumps({"name": "长" * 61, "team_code": "desk_bj"}), 422, "validation_error"),
    "NUL escaped in json": (json.dumps({"name": "a\u0000b", "team_code": "desk_bj"}), 400, "nul_character"),
    "NUL raw in body": (b'{"name": "a\x00b", "team_code": "desk_bj"}', 400, "nul_character"),
    "invalid utf-8": (b'{"name": "\xff\xfe", "team_code": "desk_bj"}', 400, "invalid_utf8"),
    "overlong utf-8 encoding": (b'{"name": "\xc0\xaf", "team_code": "desk_bj"}', 400, "invalid_utf8"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_json_body_is_refused_and_nothing_written(api, case):
    data, status, code = CASES[case]
    before = written()
    body = assert_refused(post_raw(api, data), status, code)
    assert written() == before
    if code == "validation_error" and case not in ("blank name", "name too long"):
        assert body["details"]["fields"], "validation errors name their fields"


def test_validation_details_name_the_field(api):
    body = assert_refused(post_raw(api, json.dumps({**GOOD, "is_admin": True})), 422)
    assert body["details"] == {
        "fields": [
            {
                "field": "is_admin",
                "message": "不支持的字段",
                "message_en": "Extra inputs are not permitted",
                "type": "unknown_field",
            }
        ]
    }


def test_wrong_content_type_is_refused(api):
    assert_refused(post_raw(api, "name=x&team_code=desk_bj", "application/x-www-form-urlencoded"))
    assert_refused(post_raw(api, json.dumps(GOOD), "text/plain"))
    assert written() == (0, 0)


def test_oversized_body_is_refused_before_reading(api, settings):
    settings.KEFU_MAX_REQUEST_BYTES = 1024
    payload = json.dumps({"name": "x" * 2000, "team_code": "desk_bj"})
    assert_refused(post_raw(api, payload), 413, "payload_too_large")
    assert written() == (0, 0)


def test_bad_content_length_is_refused(api):
    response = api.generic(
        "POST", "/api/tokens", json.dumps(GOOD), content_type="application/json", CONTENT_LENGTH="lots"
    )
    assert_refused(response, 400, "bad_request")


@pytest.mark.parametrize("query", ["x=%00", "name=a%00b", "%00=1"])
def test_nul_in_query_is_refused(api, query):
    assert_refused(api.get(f"/api/tokens?{query}"), 400, "nul_character")
    assert_refused(post_raw(api, json.dumps(GOOD), url=f"/api/tokens?{query}"), 400, "nul_character")
    assert written() == (0, 0)


def test_nul_in_a_form_is_refused(api):
    response = api.generic(
        "POST",
        "/accounts/tokens/",
        "name=a%00b&team_code=desk_bj",
        content_type="application/x-www-form-urlencoded",
    )
    assert_refused(response, 400, "nul_character")
    assert written() == (0, 0)


def test_invalid_utf8_in_a_form_is_refused(api):
    response = api.generic(
        "POST",
        "/accounts/tokens/",
        b"name=\xff&team_code=desk_bj",
        content_type="application/x-www-form-urlencoded",
    )
    assert_refused(response, 400, "invalid_utf8")
    assert written() == (0, 0)


@pytest.mark.parametrize("url", ["/api/me?verbose=1", "/api/tokens?page=2", "/api/provinces?province=sh"])
def test_unknown_query_parameters_are_refused(api, url):
    body = assert_refused(api.get(url), 400, "unknown_query_parameter")
    name = url.split("?")[1].split("=")[0]
    assert body["details"] == {
        "fields": [
            {
                "field": name,
                "message": "不支持的查询参数",
                "message_en": "Unknown query parameter",
                "type": "unknown_field",
            }
        ]
    }


def test_unknown_query_parameter_on_a_write_writes_nothing(api):
    assert_refused(
        post_raw(api, json.dumps(GOOD), url="/api/tokens?dry_run=1"), 400, "unknown_query_parameter"
    )
    assert written() == (0, 0)


def test_non_numeric_path_id_is_refused(api):
    assert_refused(api.delete("/api/tokens/abc"))


def test_unknown_api_path_is_json_404(api):
    body = assert_refused(api.get("/api/no/such/thing"), 404, "not_found")
    assert body["message"] == "未找到，或不在您的权限范围内。"


def test_signed_out_api_call_is_refused_in_the_shape():
    assert_refused(
        Client().post("/api/tokens", json.dumps(GOOD), content_type="application/json"),
        401,
        "unauthenticated",
    )


def test_wrong_method_is_refused_in_the_shape(api):
    assert_refused(api.put("/api/tokens", json.dumps(GOOD), content_type="application/json"), 405)


def test_json_body_over_the_in_memory_limit_is_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    payload = json.dumps({"name": "x" * 2000, "team_code": "desk_bj"})
    assert_refused(post_raw(api, payload), 413, "payload_too_large")
    assert written() == (0, 0)


def test_server_error_under_api_is_json_in_the_shape(agent_bj, monkeypatch):
    def boom(actor):
        raise RuntimeError("bug")

    monkeypatch.setattr("kefu.org.selectors.me", boom)
    client = Client(raise_request_exception=False)
    client.force_login(agent_bj.user)
    response = client.get("/api/me")
    assert response.status_code == 500
    assert response.json() == {
        "code": "internal_error",
        "message": "服务器内部错误。",
        "message_en": "Internal server error.",
        "details": None,
    }


def test_every_api_operation_has_the_guard():
    from config.api import api

    unguarded = [
        f"{op.methods} {path}"
        for router in api._get_bound_routers()
        for path, view in router.path_operations.items()
        for op in view.operations
        if op._run_checks.__name__ not in ("run_checks", "run_checks_async")
    ]
    assert not unguarded, f"operations added after install_query_guard(api): {unguarded}"
