"""The create path's SQL, built once per process: the customer's read, and the write of a new work order
(the order, its SLA clock, its Idempotency-Key and its ``ticket.created`` event).

The rows are built by ``ticket_create`` as model instances, exactly as ``save()`` would write them; this
module writes them with INSERT statements built once per process from the models' fields. Django
compiles every ``save()`` afresh (field lists, quoting, returning clauses): on the busiest write that
compilation was about a third of a create's CPU (#16.5, ``bench/run create_cost``).

On PostgreSQL the four rows go in ONE statement: data-modifying CTEs, the first inserting the order
(its id and its number taken from their sequences), the others using that id. A single statement is
atomic by itself, so outside a caller's transaction no BEGIN/COMMIT round trips are needed either.
The (user, key) unique constraint still refuses a repeated Idempotency-Key, and then nothing at all
is written. Elsewhere (SQLite) the four INSERTs run one after the other in the caller's transaction.

Each value goes through the field's own ``pre_save`` and ``get_db_prep_save``, as Django's INSERT
compiler does, so a row written here reads back identical to one written by ``save()``; no model
involved has ``save()`` logic or signals for inserts (``AuditEvent.save`` only refuses updates).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model
from django.db.models.expressions import RawSQL
from psycopg.types.json import Jsonb

from kefu.core import rows
from kefu.core.errors import NotFound
from kefu.core.models import AuditEvent
from kefu.core.scope import Scope
from kefu.customers.models import Customer
from kefu.sla.models import Clock

from ..models import IdempotencyKey, Ticket


@dataclass(frozen=True)
class _Table:
    name: str
    fields: tuple[Field[Any, Any], ...]  # every concrete column but the automatic id
    columns: str
    quoted: dict[str, str]  # attribute name: quoted column
    plain: tuple[tuple[Field[Any, Any], type | None], ...]  # each field and the plain type it stores as is

    def insert(self, exprs: dict[str, str]) -> str:
        """``INSERT ... VALUES``: ``%s`` per column, or the SQL given in ``exprs`` by attribute name."""
        values = ", ".join(exprs.get(f.attname, "%s") for f in self.fields)
        return f"INSERT INTO {self.name} ({self.columns}) VALUES ({values})"  # noqa: S608 (model metadata)

    def insert_from_record(self, exprs: dict[str, str]) -> str:
        """PostgreSQL: ``INSERT ... SELECT`` of one JSON object (one parameter for the whole row; the
        columns' own input rules convert each value), or the SQL given in ``exprs`` by attribute name."""
        values = ", ".join(exprs.get(f.attname, f"r.{self.quoted[f.attname]}") for f in self.fields)
        return (
            f"INSERT INTO {self.name} ({self.columns})"  # noqa: S608 (model metadata)
            f" SELECT {values} FROM jsonb_populate_record(NULL::{self.name}, %s::jsonb) r"
        )

    def record(self, obj: Model, skip: tuple[str, ...] = ()) -> str:
        """The row as the JSON object ``insert_from_record`` reads: the values ``save()`` would bind.

        A value of the one plain type its field stores (a ``str`` in a text column, an ``int`` in an
        integer or foreign key column, a ``bool`` in a boolean one, an aware ``datetime`` in a date-time
        column, a ``dict`` in a JSON one, or None) is what ``get_db_prep_save`` would return, or what
        ``_json_value`` makes of it, so it is taken as it is; anything else goes through the field.
        """
        conn = connections[DEFAULT_DB_ALIAS]  # not the proxy: one lookup instead of one per column
        row: dict[str, Any] = {}
        for f, plain in self.plain:
            if f.attname in skip:
                continue
            if plain is not None:
                value = getattr(obj, f.attname)
                if value is None or (
                    type(value) is plain
                    and (plain is not datetime or getattr(value, "tzinfo", None) is not None)
                ):
                    row[f.column] = value  # json.dumps writes an aware datetime as _json_value does
                    continue
            row[f.column] = f.get_db_prep_save(f.pre_save(obj, True), conn)
        return json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=_json_value)

    def params(self, obj: Model, given: dict[str, list[Any]] | None = None) -> list[Any]:
        out: list[Any] = []
        for f in self.fields:
            if given and f.attname in given:
                out.extend(given[f.attname])
            else:
                out.append(f.get_db_prep_save(f.pre_save(obj, True), connection))
        return out


def _json_value(value: Any) -> Any:
    """What a prepared value is in the JSON record: the text PostgreSQL reads for the column."""
    if isinstance(value, datetime):
        return value.isoformat()  # aware, to the microsecond
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Jsonb):  # a JSONField's value, adapted for psycopg
        return value.obj
    raise TypeError(f"no JSON form for {type(value).__name__}")


_PLAIN = {
    "CharField": str,
    "TextField": str,
    "BooleanField": bool,
    "IntegerField": int,
    "BigIntegerField": int,
    "SmallIntegerField": int,
    "PositiveIntegerField": int,
    "PositiveBigIntegerField": int,
    "PositiveSmallIntegerField": int,
    "AutoField": int,  # a foreign key's target
    "BigAutoField": int,
    "DateTimeField": datetime,  # aware only (a naive one goes through the field, which warns)
    "JSONField": dict,
}


def _plain_type(f: Field[Any, Any]) -> type | None:
    """The Python type a field writes unchanged; None when every value goes through the field (dates
    with ``auto_now``, decimals, JSON, anything else)."""
    target = f.target_field if f.many_to_one else f  # type: ignore[attr-defined]
    if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
        return None
    return _PLAIN.get(target.get_internal_type())


_TABLES: dict[type[Model], _Table] = {}
_SQL: dict[tuple[Any, ...], str] = {}


def _table(model: type[Model]) -> _Table:
    table = _TABLES.get(model)
    if table is None:
        q = connection.ops.quote_name
        fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
        table = _TABLES[model] = _Table(
            name=q(model._meta.db_table),
            fields=fields,
            columns=", ".join(q(f.column) for f in fields),
            quoted={f.attname: q(f.column) for f in fields},
            plain=tuple((f, _plain_type(f)) for f in fields),
        )
    return table


def customer_in_scope(scope: Scope, pk: int) -> Customer:
    """The customer a new order is for, with its province: ``customers.selectors.customer_in_scope``'s
    answer (``NotFound`` outside the scope, exactly as for a missing id) in one SELECT compiled once.

    The scope is checked on the row read, like the scoped manager's ``province IN (...)``: it fails
    closed (an empty scope covers nothing). The account manager is not joined: an order does not show it.
    """
    customer = rows.one(Customer, equal=("id",), values=[pk], related=("province",), scope=scope)
    if customer is None:
        raise NotFound()
    return customer


def _done(obj: Model, pk: int) -> None:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias


def insert_new_order(t: Ticket, clock: Clock | None, key: IdempotencyKey | None, event: AuditEvent) -> None:
    """Write the rows of a new order; sets their ids, and ``t.number`` and ``event.data["number"]`` when
    the number comes from PostgreSQL's sequence (``t.number`` a ``RawSQL``, see ``numbering``).

    ``clock.owner_id``, ``key.ticket_id`` and ``event.target_id`` are filled with the order's id.
    Raises ``IntegrityError`` (nothing written) when the Idempotency-Key was used before.
    """
    if connection.vendor == "postgresql":
        _insert_postgresql(t, clock, key, event)
    else:
        _insert_each(t, clock, key, event)


def _insert_postgresql(t: Ticket, clock: Clock | None, key: IdempotencyKey | None, event: AuditEvent) -> None:
    number = t.number
    if not isinstance(number, RawSQL):
        raise TypeError("on PostgreSQL the number comes from numbering.number_for_insert")
    shape = (number.sql, clock is not None, key is not None)
    sql = _SQL.get(shape)
    if sql is None:
        sql = _SQL[shape] = _statement(number.sql, with_clock=clock is not None, with_key=key is not None)
    params = [*number.params, _table(Ticket).record(t, skip=("number",))]
    if clock is not None:
        params.append(_table(Clock).record(clock, skip=("owner_id",)))
    if key is not None:
        params.append(_table(IdempotencyKey).record(key, skip=("ticket_id",)))
    # The number is the INSERT's own: the statement adds it to the event's data.
    event_data = event.data
    event.data = {k: v for k, v in event_data.items() if k != "number"}
    params.append(_table(AuditEvent).record(event, skip=("target_id",)))
    event.data = event_data
    with rows.prepared_cursor() as cursor:  # prepared on the connection: planned once, not per order
        cursor.execute(sql, params)
        pk, value, clock_pk, event_pk = cursor.fetchone()
    t.number = value
    _done(t, pk)
    if clock is not None:
        clock.owner_id = pk
        _done(clock, clock_pk)
    if key is not None:
        key.ticket_id = pk
        key._state.adding = False  # its id is not read back: nothing reads it
    event.target_id = str(pk)
    event.data["number"] = value
    _done(event, event_pk)


def _statement(number_sql: str, *, with_clock: bool, with_key: bool) -> str:
    order_id = '(SELECT "id" FROM t)'
    parts = [f't AS ({_table(Ticket).insert_from_record({"number": number_sql})} RETURNING "id", "number")']
    if with_clock:
        parts.append(f'c AS ({_table(Clock).insert_from_record({"owner_id": order_id})} RETURNING "id")')
    if with_key:
        # Executed although nothing reads it (so are all data-modifying CTEs); its conflict fails the whole.
        parts.append(f"k AS ({_table(IdempotencyKey).insert_from_record({'ticket_id': order_id})})")
    event = _table(AuditEvent).insert_from_record(
        {
            "target_id": '(SELECT "id"::text FROM t)',
            "data": """r."data" || jsonb_build_object('number', (SELECT "number" FROM t))""",
        }
    )
    parts.append(f'e AS ({event} RETURNING "id")')
    clock_id = '(SELECT "id" FROM c)' if with_clock else "NULL"
    return f'WITH {", ".join(parts)} SELECT "id", "number", {clock_id}, (SELECT "id" FROM e) FROM t'  # noqa: S608


def _insert_each(t: Ticket, clock: Clock | None, key: IdempotencyKey | None, event: AuditEvent) -> None:
    with connection.cursor() as cursor:
        ticket_t = _table(Ticket)
        cursor.execute(ticket_t.insert({}), ticket_t.params(t))
        _done(t, cursor.lastrowid)
        if clock is not None:
            clock.owner_id = t.pk
            cursor.execute(_table(Clock).insert({}), _table(Clock).params(clock))
            _done(clock, cursor.lastrowid)
        if key is not None:
            key.ticket_id = t.pk
            cursor.execute(_table(IdempotencyKey).insert({}), _table(IdempotencyKey).params(key))
            _done(key, cursor.lastrowid)
        event.target_id = str(t.pk)
        event.data["number"] = t.number
        cursor.execute(_table(AuditEvent).insert({}), _table(AuditEvent).params(event))
        _done(event, cursor.lastrowid)
