"""Report months: parsing, Asia/Shanghai boundaries, ranges. Pure functions, no database.

A month is represented by the date of its first day. Its instants are
[00:00 on the 1st, 00:00 on the 1st of the next month) in Asia/Shanghai, fixed
by the rules (the operator reports in Beijing time) and independent of the
server's or the reader's time zone.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from kefu.core.errors import ValidationFailed
from kefu.reports.codes import ReportCode

REPORT_TZ = ZoneInfo("Asia/Shanghai")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def month_of(instant: datetime) -> date:
    """The report month an aware instant falls in (Beijing time)."""
    local = instant.astimezone(REPORT_TZ)
    return date(local.year, local.month, 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + (month.month - 1) + n
    return date(index // 12, index % 12 + 1, 1)


def bounds(month: date) -> tuple[datetime, datetime]:
    """[start, end) of the month as aware instants."""
    start = datetime(month.year, month.month, 1, tzinfo=REPORT_TZ)
    nxt = add_months(month, 1)
    return start, datetime(nxt.year, nxt.month, 1, tzinfo=REPORT_TZ)


def previous_month(now: datetime) -> date:
    return add_months(month_of(now), -1)


def parse_month(value: str | None, *, default: date) -> date:
    """``YYYY-MM`` to a month; an empty value gives ``default``; anything else is refused."""
    if value is None or value == "":
        return default
    match = _MONTH_RE.match(value.strip())
    # 2000-2099: a typo such as 9999-12 must be a 422, not a date overflow.
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 2099:
        raise ValidationFailed(
            "月份格式应为 YYYY-MM，例如 2026-10。",
            "The month must look like YYYY-MM, for example 2026-10.",
            code=ReportCode.INVALID_MONTH,
            fields=[{"field": "month", "value": value[:20]}],
        )
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_range(first: date, last: date) -> list[date]:
    if last < first:
        first, last = last, first
    out = []
    m = first
    while m <= last:
        out.append(m)
        m = add_months(m, 1)
    return out


def label(month: date) -> str:
    return f"{month.year}年{month.month}月"


def key(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"
