"""One row by equality, with its foreign keys joined, in SQL built once per process (issue #16.5).

For the reads every API request makes (the bearer token with its user) and the busiest write makes
(the new order's customer with its province). Django compiles a queryset's SQL afresh on each
evaluation; for these one-row reads that compilation cost more CPU than the rest of the read. The
rows come back through the same field converters a queryset applies, as ``Model.from_db`` instances
with the joined objects cached on them, so callers cannot tell them from ``select_related`` ones.

This reads past ``ProvinceScopedManager``, so it fails closed the same way: a province-owned model
(``kefu.core.scope.is_province_owned``) can only be read with ``scope=``, and a row outside that scope
comes back as None, exactly like a missing id. Reading one without a scope is a programming error.

On PostgreSQL these statements go through ``prepared_cursor``: bound on the server and prepared on
each connection, so PostgreSQL stops parsing and planning them on every request (measured on the
bench database: a token read 0.27 -> 0.10 ms of server CPU, the new order's write 1.38 -> 0.76 ms).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.utils import CursorWrapper
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

from kefu.core.scope import Scope, is_province_owned

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Part:
    model: type[Model]
    attnames: tuple[str, ...]
    converters: list[tuple[list[Any], Any]]
    cache_on: str  # the foreign key on the first model this part fills ("" for the first model)


@dataclass(frozen=True)
class _Plan:
    sql: str
    parts: tuple[_Part, ...]


_PLANS: dict[tuple[Any, ...], _Plan] = {}


def one(
    model: type[M],
    *,
    equal: tuple[str, ...],
    values: list[Any],
    is_null: tuple[str, ...] = (),
    related: tuple[str, ...] = (),
    scope: Scope | None = None,
    lock: bool = False,
) -> M | None:
    """The row of ``model`` whose ``equal`` fields have ``values`` (and ``is_null`` fields are NULL),
    with the non-null foreign keys named in ``related`` joined and cached; None when there is none.

    ``equal`` should name a unique field (the first row is taken, in no order). ``scope`` is required
    for a province-owned model; its rows must carry ``province_id``. ``lock``: the row of ``model`` (not
    the joined ones) is locked for the caller's transaction (``SELECT ... FOR UPDATE OF``, where the
    database has it; SQLite's write transactions are serial anyway).
    """
    owned = is_province_owned(model)
    if owned and scope is None:
        raise TypeError(f"{model._meta.label} is province-owned: rows.one needs scope=")
    db = connections[DEFAULT_DB_ALIAS]  # not the proxy: one thread-local lookup, not one per use
    lock = lock and db.features.has_select_for_update_of
    key = (model, equal, is_null, related, lock, db.vendor)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _plan(model, equal, is_null, related, lock)
    with prepared_cursor() as cursor:
        cursor.execute(plan.sql, values)
        row = cursor.fetchone()
    if row is None:
        return None
    at = 0
    first: Any = None
    for part in plan.parts:
        values_of = list(row[at : at + len(part.attnames)])
        at += len(part.attnames)
        for i, (convs, col) in enumerate(part.converters):
            for convert in convs:
                values_of[i] = convert(values_of[i], col, db)
        obj = _instance(part.model, part.attnames, values_of)  # as Model.from_db, all fields loaded
        obj._state.adding = False
        obj._state.db = db.alias
        if first is None:
            first = obj
        else:
            setattr(first, part.cache_on, obj)
    if owned and scope is not None and not scope.covers(first.province_id):
        return None
    return first


def prepared_cursor() -> CursorWrapper:
    """A cursor for a statement a process runs again and again with the same SQL text (only its
    parameters change): on PostgreSQL bound on the server and prepared on the connection at its first
    execution, so PostgreSQL parses and plans it once per connection instead of once per request;
    elsewhere, or with ``KEFU_DB_PREPARE=0`` (a pooler that cannot keep prepared statements),
    ``connection.cursor()``.

    It is Django's own cursor wrapper, so everything a ``connection.cursor()`` does still happens: the
    connection health check, the error translation (``django.db.IntegrityError``), the execute wrappers
    and the query log that tests count. psycopg forgets its prepared statements on a ROLLBACK, a DROP or
    an ALTER on the connection; PostgreSQL re-plans them itself after a schema change made by another
    connection. Only SQL built by this process from model metadata should go through it: server-side
    binding types each parameter, so a ``%s`` whose type PostgreSQL cannot infer needs a cast.
    """
    db: Any = connections[DEFAULT_DB_ALIAS]  # not the proxy: one thread-local lookup, not one per use
    if db.vendor != "postgresql" or not settings.KEFU_DB_PREPARE:
        return db.cursor()
    driver = _driver()
    # What BaseDatabaseWrapper._cursor and the PostgreSQL create_cursor do, with another cursor class.
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        cursor = driver.cursor_class(db.connection)
        # timestamptz values read in the connection's time zone
        if db.timezone != db.connection.adapters.get_loader(driver.timestamptz, driver.text).timezone:
            driver.register_tzloader(db.timezone, cursor)
        wrapped: CursorWrapper = db._prepare_cursor(cursor)
        return wrapped


@dataclass(frozen=True)
class _Driver:
    cursor_class: type
    timestamptz: int
    text: Any
    register_tzloader: Any


@cache
def _driver() -> _Driver:
    """Django's server-binding cursor, preparing every statement it runs (Django turns psycopg's
    automatic preparation off for connection poolers' sake; here it is asked for by name)."""
    from django.db.backends.postgresql import base
    from psycopg.pq import Format

    pg: Any = base  # its psycopg 3 names are defined at import time, out of the stubs' sight

    class PreparedCursor(pg.ServerBindingCursor):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            return super().execute(query, params, prepare=True)

        def _send_query_prepared(self, name: bytes, pgq: Any, **kwargs: Any) -> None:
            # psycopg keeps the statement it sent only on its unprepared path; Django's query log
            # (connection.queries, CaptureQueriesContext) reads it from there.
            self._query = pgq
            super()._send_query_prepared(name, pgq, **kwargs)

    return _Driver(PreparedCursor, pg.TIMESTAMPTZ_OID, Format.TEXT, pg.register_tzloader)


def _part(model: type[Model], cache_on: str) -> _Part:
    fields = model._meta.concrete_fields
    converters = []
    for f in fields:
        col = f.get_col(model._meta.db_table)
        converters.append((connection.ops.get_db_converters(col) + col.get_db_converters(connection), col))
    return _Part(
        model=model, attnames=tuple(f.attname for f in fields), converters=converters, cache_on=cache_on
    )


def _plan(
    model: type[Model], equal: tuple[str, ...], is_null: tuple[str, ...], related: tuple[str, ...], lock: bool
) -> _Plan:
    q = connection.ops.quote_name
    meta = model._meta
    parts = [_part(model, "")]
    columns = [f"t0.{q(f.column)}" for f in meta.concrete_fields]
    joins = []
    for n, name in enumerate(related, start=1):
        fk = meta.get_field(name)
        if getattr(fk, "null", True) or not fk.many_to_one:  # an INNER JOIN would drop rows whose key is NULL
            raise ValueError(f"{meta.label}.{name} is not a non-null foreign key")
        target = fk.related_model
        assert target is not None and not isinstance(target, str)
        parts.append(_part(target, name))
        columns += [f"t{n}.{q(f.column)}" for f in target._meta.concrete_fields]
        joins.append(
            f" INNER JOIN {q(target._meta.db_table)} t{n}"
            f" ON t{n}.{q(fk.target_field.column)} = t0.{q(fk.column)}"  # type: ignore[union-attr, arg-type]
        )
    where = [f"t0.{q(meta.get_field(name).column)} = %s" for name in equal]  # type: ignore[union-attr, arg-type]
    where += [f"t0.{q(meta.get_field(name).column)} IS NULL" for name in is_null]  # type: ignore[union-attr, arg-type]
    sql = (
        f"SELECT {', '.join(columns)} FROM {q(meta.db_table)} t0{''.join(joins)}"  # noqa: S608 (model metadata)
        f" WHERE {' AND '.join(where)} LIMIT 1{' FOR UPDATE OF t0' if lock else ''}"
    )
    return _Plan(sql=sql, parts=tuple(parts))


@dataclass(frozen=True)
class _Shape:
    attnames: tuple[str, ...]  # each concrete field's attribute, in field order
    template: tuple[Any, ...]  # each concrete field's fixed default, in field order
    slots: dict[str, tuple[int, Any]]  # a keyword Model() takes: its field's index, and the field
    computed: tuple[tuple[int, Any], ...]  # fields whose default is called per instance (dict, now)


_SHAPES: dict[type[Model], _Shape] = {}


def new(model: type[M], **values: Any) -> M:
    """``model(**values)``, built the way Django builds rows it reads (positional, one assignment per
    column) instead of keyword by keyword through each field's descriptor: on the busiest write, the
    models' constructors were a tenth of the process's CPU.

    Takes what the constructor takes: field names, with a related object for a foreign key (cached on
    the instance as the descriptor would) or its ``<name>_id``. Unknown names raise ``TypeError``.
    """
    shape = _SHAPES.get(model)
    if shape is None:
        shape = _SHAPES[model] = _shape(model)
    args = list(shape.template)
    given = set()
    related: list[tuple[Any, Any]] = []
    for name, value in values.items():
        slot = shape.slots.get(name)
        if slot is None:
            raise TypeError(f"{model.__name__}() got an unexpected keyword argument '{name}'")
        index, field = slot
        given.add(index)
        if field is not None:  # a related object for a foreign key
            related.append((field, value))
            value = None if value is None else getattr(value, field.target_field.attname)
        args[index] = value
    for index, field in shape.computed:
        if index not in given:
            args[index] = field.get_default()
    obj = _instance(model, shape.attnames, args)
    for field, value in related:
        field.set_cached_value(obj, value)
    return obj


def _instance(model: type[M], attnames: tuple[str, ...], values: list[Any]) -> M:
    """``model(*values)``: one value per concrete field, in order, nothing deferred.

    What the constructor does for such a call, without its loop through each field's descriptor: the
    values go straight into the instance's ``__dict__`` (where the fields' descriptors read them) with a
    fresh ``ModelState``. Only when some receiver listens to ``pre_init`` or ``post_init`` for the model
    does the constructor run, so the signals are sent.
    """
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return model(*values)
    obj = model.__new__(model)
    obj._state = ModelState()
    obj.__dict__.update(zip(attnames, values, strict=True))
    return obj


def _shape(model: type[Model]) -> _Shape:
    fields = model._meta.concrete_fields
    template: list[Any] = []
    slots: dict[str, tuple[int, Any]] = {}
    computed = []
    for index, f in enumerate(fields):
        if f.has_default() and callable(f.default):
            computed.append((index, f))
            template.append(None)
        else:
            template.append(f.get_default())
        slots[f.attname] = (index, None)
        if f.many_to_one and not f.one_to_one:
            slots[f.name] = (index, f)
        elif f.name != f.attname:
            raise TypeError(f"{model._meta.label}.{f.name}: rows.new builds no one-to-one fields")
    return _Shape(
        attnames=tuple(f.attname for f in fields),
        template=tuple(template),
        slots=slots,
        computed=tuple(computed),
    )
