"""Beijing-time month boundaries and month parsing (pure)."""

from datetime import UTC, date, datetime

import pytest

from kefu.core.errors import ValidationFailed
from kefu.reports import months


def test_boundaries_are_beijing_midnight():
    start, end = months.bounds(date(2026, 10, 1))
    assert start.astimezone(UTC) == datetime(2026, 9, 30, 16, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert months.month_of(datetime(2026, 10, 31, 15, 59, 59, tzinfo=UTC)) == date(2026, 10, 1)
    assert months.month_of(datetime(2026, 10, 31, 16, 0, tzinfo=UTC)) == date(2026, 11, 1)
    assert months.bounds(date(2026, 12, 1))[1].year == 2027


@pytest.mark.parametrize(
    "value",
    ["2026-13", "2026-00", "1999-12", "9999-12", "2100-01", "26-10", "2026/10", "x" * 500, "2026-10-01"],
)
def test_bad_months_are_refused(value):
    with pytest.raises(ValidationFailed):
        months.parse_month(value, default=date(2026, 1, 1))


def test_parse_and_ranges():
    assert months.parse_month("", default=date(2026, 1, 1)) == date(2026, 1, 1)
    assert months.parse_month("2099-12", default=date(2026, 1, 1)) == date(2099, 12, 1)
    assert months.month_range(date(2026, 11, 1), date(2027, 2, 1)) == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]
    assert months.add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert months.label(date(2026, 10, 1)) == "2026年10月" and months.key(date(2026, 3, 1)) == "2026-03"
