"""One row by equality, with its foreign keys joined, in SQL built once per process (issue #16.5).

For the reads every API request makes (the bearer token with its user) and the busiest write makes
(the new order's customer with its province). Django compiles a queryset's SQL afresh on each
evaluation; for these one-row reads that compilation cost more CPU than the rest of the read. The
rows come back through the same field converters a queryset applies, as ``Model.from_db`` instances
with the joined objects cached on them, so callers cannot tell them from ``select_related`` ones.

This reads past ``ProvinceScopedManager``, so it fails closed the same way: a province-owned model
(``kefu.core.scope.is_province_owned``) can only be read with ``scope=``, and a row outside that scope
comes back as None, exactly like a missing id. Reading one without a scope is a programming error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

from kefu.core.scope import Scope, is_province_owned

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Part:
    model: type[Model]
    attnames: list[str]
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
) -> M | None:
    """The row of ``model`` whose ``equal`` fields have ``values`` (and ``is_null`` fields are NULL),
    with the non-null foreign keys named in ``related`` joined and cached; None when there is none.

    ``equal`` should name a unique field (the first row is taken, in no order). ``scope`` is required
    for a province-owned model; its rows must carry ``province_id``.
    """
    owned = is_province_owned(model)
    if owned and scope is None:
        raise TypeError(f"{model._meta.label} is province-owned: rows.one needs scope=")
    key = (model, equal, is_null, related, connection.vendor)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _plan(model, equal, is_null, related)
    with connection.cursor() as cursor:
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
                values_of[i] = convert(values_of[i], col, connection)
        obj = part.model.from_db(connection.alias, part.attnames, values_of)
        if first is None:
            first = obj
        else:
            setattr(first, part.cache_on, obj)
    if owned and scope is not None and not scope.covers(first.province_id):
        return None
    return first


def _part(model: type[Model], cache_on: str) -> _Part:
    fields = model._meta.concrete_fields
    converters = []
    for f in fields:
        col = f.get_col(model._meta.db_table)
        converters.append((connection.ops.get_db_converters(col) + col.get_db_converters(connection), col))
    return _Part(model=model, attnames=[f.attname for f in fields], converters=converters, cache_on=cache_on)


def _plan(
    model: type[Model], equal: tuple[str, ...], is_null: tuple[str, ...], related: tuple[str, ...]
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
        f" WHERE {' AND '.join(where)} LIMIT 1"
    )
    return _Plan(sql=sql, parts=tuple(parts))
