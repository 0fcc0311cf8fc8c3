"""Work-order numbers: province, local date, then a database-wide sequence value.

``BJ2611270000123``: readable on the phone, sortable, unique because the last
seven digits come from one PostgreSQL sequence (on SQLite, a counter row
updated inside the creating transaction, which SQLite serialises).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import F
from django.utils import timezone

from .models import NumberCounter

SEQUENCE = "tickets_ticket_number_seq"


def next_value() -> int:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s)", [SEQUENCE])
            return int(cursor.fetchone()[0])
    # Called inside the creating transaction: the UPDATE takes SQLite's write lock
    # (IMMEDIATE mode), so two creators cannot read the same value.
    NumberCounter.objects.get_or_create(name="ticket", defaults={"value": 0})
    NumberCounter.objects.filter(name="ticket").update(value=F("value") + 1)
    return NumberCounter.objects.get(name="ticket").value


def format_number(*, province_slug: str, when: datetime, value: int) -> str:
    local = timezone.localtime(when)
    return f"{province_slug.upper()}{local:%y%m%d}{value:07d}"


def next_number(*, province_slug: str, now: datetime) -> str:
    return format_number(province_slug=province_slug, when=now, value=next_value())
