"""Error codes of org: the stable ``code`` of its refusals (the wire value; docs/api.md)."""

from enum import StrEnum


class OrgCode(StrEnum):
    LOGIN_FAILED = "login_failed"
    LOGIN_THROTTLED = "login_throttled"
    PERMISSION_DENIED = "permission_denied"
