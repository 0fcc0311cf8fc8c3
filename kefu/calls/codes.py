"""Error codes of calls: the stable ``code`` of its refusals (the wire value; docs/api.md)."""

from enum import StrEnum


class CallCode(StrEnum):
    BAD_EVENT = "bad_event"
    BAD_FILE = "bad_file"
    RATE_LIMITED = "rate_limited"
    UNAUTHORIZED = "unauthorized"
    UNKNOWN_LINE = "unknown_line"
