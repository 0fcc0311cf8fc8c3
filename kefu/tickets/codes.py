"""Error codes of tickets: the stable ``code`` of its refusals (the wire value; docs/api.md)."""

from enum import StrEnum


class TicketCode(StrEnum):
    ACCEPT_WINDOW_PASSED = "accept_window_passed"
    FILE_COUNT = "file_count"
    FILE_EMPTY = "file_empty"
    FILE_ENCODING = "file_encoding"
    FILE_MARKUP = "file_markup"
    FILE_MISMATCH = "file_mismatch"
    FILE_TOO_LARGE = "file_too_large"
    FILE_TYPE = "file_type"
    IDEMPOTENCY_KEY_TOO_LONG = "idempotency_key_too_long"
    IDEMPOTENCY_MISMATCH = "idempotency_mismatch"
    NO_FRONT_TEAM = "no_front_team"
    NOT_HOLDER = "not_holder"
    NOT_HOLDER_SUPERVISOR = "not_holder_supervisor"
    NOT_PARTICIPANT = "not_participant"
    REPLY_REQUIRED = "reply_required"
    STALE_VERSION = "stale_version"
