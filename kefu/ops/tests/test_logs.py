"""Structured logs carry the request id that the response echoes."""

from __future__ import annotations

import json
import logging

import pytest

from kefu.ops.logs import REQUEST_ID, JsonFormatter, RequestIdFilter


@pytest.mark.django_db
def test_a_sane_request_id_is_kept_and_a_hostile_one_replaced(client):
    kept = client.get("/readyz", HTTP_X_REQUEST_ID="lb-1234abcd")
    replaced = client.get("/readyz", HTTP_X_REQUEST_ID="<script>x</script>\n")
    assert kept["X-Request-ID"] == "lb-1234abcd"
    assert len(replaced["X-Request-ID"]) == 32 and replaced["X-Request-ID"].isalnum()


def test_json_lines_carry_level_logger_message_request_id_and_extras():
    record = logging.LogRecord("kefu.tickets", logging.WARNING, __file__, 1, "派单失败 %s", ("T1",), None)
    record.ticket = "T1"
    token = REQUEST_ID.set("req-abcdef12")
    try:
        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert {k: line[k] for k in ("level", "logger", "message", "request_id", "ticket")} == {
        "level": "WARNING",
        "logger": "kefu.tickets",
        "message": "派单失败 T1",
        "request_id": "req-abcdef12",
        "ticket": "T1",
    }
