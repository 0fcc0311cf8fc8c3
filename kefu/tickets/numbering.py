"""Work-order numbers: province, local date, then a database-wide sequence value.

``BJ2611270000123``: readable on the phone, sortable, unique because the last
seven digits come from one PostgreSQL sequence (on SQLite, a counter row
updated inside the creating transaction, which SQLite serialises).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import CharField, F
from django.db.models.expressions import RawSQL
from django.utils import timezone

from .models import NumberCounter

SEQUENCE = "tickets_ticket_number_seq"


def next_value() -> int:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s)", [SEQUENCE])
            return int(cursor.fetchone()[0])
    # Called inside the creating transaction: the UPDATE takes SQLite's write lock
    # (IMMEDIATE mode), so two creators cannot read the same value. One statement (RETURNING).
    table = NumberCounter._meta.db_table
    sql = f'UPDATE "{table}" SET "value" = "value" + 1 WHERE "name" = %s RETURNING "value"'  # noqa: S608 (a model's table)
    with connection.cursor() as cursor:
        cursor.execute(sql, ["ticket"])
        row = cursor.fetchone()
    if row is not None:
        return int(row[0])
    NumberCounter.objects.get_or_create(name="ticket", defaults={"value": 0})  # the very first order
    NumberCounter.objects.filter(name="ticket").update(value=F("value") + 1)
    return NumberCounter.objects.get(name="ticket").value


def format_number(*, province_slug: str, when: datetime, value: int) -> str:
    local = timezone.localtime(when)
    return f"{province_slug.upper()}{local:%y%m%d}{value:07d}"


def next_number(*, province_slug: str, now: datetime) -> str:
    return format_number(province_slug=province_slug, when=now, value=next_value())


def number_for_insert(*, province_slug: str, now: datetime) -> Any:
    """The number to write with a new order: on PostgreSQL an expression, so the INSERT itself takes
    the sequence value (``Ticket.number`` comes back through ``RETURNING``); elsewhere the value."""
    if connection.vendor != "postgresql":
        return next_number(province_slug=province_slug, now=now)
    prefix = format_number(province_slug=province_slug, when=now, value=0)[:-7]
    # As format_number: at least seven digits, never cut (lpad alone would cut an eighth).
    sql = (
        "SELECT %s || CASE WHEN length(v::text) < 7 THEN lpad(v::text, 7, '0') ELSE v::text END"
        " FROM nextval(%s) AS v"
    )
    return RawSQL(f"({sql})", (prefix, SEQUENCE), output_field=_NUMBER_FIELD)  # noqa: S611 (constant SQL, bound values)


_NUMBER_FIELD: CharField[Any, Any] = (
    CharField()
)  # the RawSQL's output type: one field for every call, not a new one per order
