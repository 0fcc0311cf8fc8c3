"""Parsing the few query parameters the SLA pages and API take; bad input is a 422, never a guess."""

from __future__ import annotations

from datetime import date, datetime

from kefu.core.errors import ValidationFailed

from .rates import GROUPS, TZ


def parse_month(value: str | None, now: datetime) -> date:
    if not value:
        return now.astimezone(TZ).date().replace(day=1)
    try:
        return datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise ValidationFailed("月份格式应为 YYYY-MM。", "month must look like YYYY-MM.",
                               details=[{"field": "month"}]) from None


def parse_group(value: str | None) -> str:
    if not value:
        return "team"
    if value not in GROUPS:
        raise ValidationFailed("分组只能是 team、province 或 ticket_kind。",
                               "group must be team, province or ticket_kind.", details=[{"field": "group"}])
    return value
