"""Parsing the few query parameters the SLA pages and API take; bad input is a 422, never a guess."""

from __future__ import annotations

from datetime import date, datetime

from kefu.core.errors import ValidationFailed

from .rates import GROUPS, TZ

# Months before the service existed or far ahead are a typo, not a question; year 9999 would overflow the bounds.
FIRST_YEAR, LAST_YEAR = 2000, 2099


def parse_month(value: str | None, now: datetime) -> date:
    if not value:
        return now.astimezone(TZ).date().replace(day=1)
    try:
        month = datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        month = None
    if month is None or not FIRST_YEAR <= month.year <= LAST_YEAR:
        raise ValidationFailed(
            f"月份格式应为 YYYY-MM（{FIRST_YEAR}–{LAST_YEAR} 年）。",
            f"month must look like YYYY-MM, years {FIRST_YEAR}-{LAST_YEAR}.",
            fields=[{"field": "month"}],
        )
    return month


def parse_group(value: str | None) -> str:
    if not value:
        return "team"
    if value not in GROUPS:
        raise ValidationFailed(
            "分组只能是 team、province 或 ticket_kind。",
            "group must be team, province or ticket_kind.",
            fields=[{"field": "group"}],
        )
    return value
