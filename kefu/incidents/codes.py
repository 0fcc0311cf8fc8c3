"""Error codes of incidents: the stable ``code`` of its refusals (the wire value; docs/api.md)."""

from enum import StrEnum


class IncidentCode(StrEnum):
    ALREADY_LINKED = "already_linked"
    ARTICLE_EXISTS = "article_exists"
    BEFORE_START = "before_start"
    BULK_DONE = "bulk_done"
    INCIDENT_CLOSED = "incident_closed"
    INCIDENT_OPEN = "incident_open"
    NOT_ADDRESSED = "not_addressed"
    PERMISSION_DENIED = "permission_denied"
    PROVINCE_NOT_AFFECTED = "province_not_affected"
    STALE = "stale"
    SUPERSEDED = "superseded"
    UNCHANGED = "unchanged"
