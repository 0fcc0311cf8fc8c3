"""Error codes of quality: the stable ``code`` of its refusals (the wire value; docs/api.md)."""

from enum import StrEnum


class QualityCode(StrEnum):
    NOT_AGENT = "not_agent"
    OWN_CONTACT = "own_contact"
    STALE_VERSION = "stale_version"
