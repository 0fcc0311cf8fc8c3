"""Error codes of realtime: the stable ``code`` of its refusals (the wire value; docs/api.md)."""

from enum import StrEnum


class RealtimeCode(StrEnum):
    BAD_FRAME = "bad_frame"
    BAD_GROUP = "bad_group"
    BAD_JSON = "bad_json"
    BAD_POLL = "bad_poll"
    BAD_SINCE = "bad_since"
    BINARY_FRAME = "binary_frame"
    CSRF = "csrf"
    FRAME_TOO_LARGE = "frame_too_large"
    GROUP_REFUSED = "group_refused"
    ORIGIN_REFUSED = "origin_refused"
    RATE_LIMITED = "rate_limited"
    TOKEN_INVALID = "token_invalid"
    TOKEN_REVOKED = "token_revoked"
    TOO_MANY_GROUPS = "too_many_groups"
    UNAUTHORIZED = "unauthorized"
