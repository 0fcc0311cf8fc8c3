"""Error codes of reports: the stable ``code`` of its refusals (the wire value; docs/api.md)."""

from enum import StrEnum


class ReportCode(StrEnum):
    INVALID_CATEGORY = "invalid_category"
    INVALID_CHANNEL = "invalid_channel"
    INVALID_KIND = "invalid_kind"
    INVALID_MONTH = "invalid_month"
    NATIONAL_ONLY = "national_only"
    RANGE_TOO_LONG = "range_too_long"
