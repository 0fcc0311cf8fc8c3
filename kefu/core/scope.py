"""Province scoping that fails closed.

Every province-owned model uses ``ProvinceScopedManager`` as ``objects``. Its
querysets refuse to be read (iterated, counted, aggregated, checked for
existence, updated or deleted) until one of two things has been said:

* ``.scoped(scope)``: rows of the provinces the scope covers (all of them for a
  national scope, none for an empty one);
* ``.unscoped(reason)``: the loud escape hatch for system jobs (the SLA sweep,
  report rollups, demo data), greppable and with a reason.

Creating rows needs no scope. A related manager reached from a province-owned
object (``customer.orders.all()``) counts as scoped, because the parent was
itself fetched through a scope; one reached from an object that is not
province-owned (``team.held_tickets``, ``province.tickets``) does not.

``Scope`` is a plain value; ``kefu.org.scoping.scope_for(user)`` builds one from
a user's memberships.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from django.db import models

if TYPE_CHECKING:
    from django.db.models import Model

M = TypeVar("M", bound="Model")


class ScopeMissing(RuntimeError):
    """A province-owned table was read without saying whose rows may be seen."""


@dataclass(frozen=True)
class Scope:
    national: bool
    province_ids: frozenset[int]

    @classmethod
    def everything(cls) -> Scope:
        return cls(national=True, province_ids=frozenset())

    @classmethod
    def nothing(cls) -> Scope:
        return cls(national=False, province_ids=frozenset())

    @classmethod
    def provinces(cls, ids: Iterable[int]) -> Scope:
        return cls(national=False, province_ids=frozenset(ids))

    def covers(self, province_id: int | None) -> bool:
        """Whether a row owned by ``province_id`` is visible (None = a national row)."""
        if self.national:
            return True
        return province_id is not None and province_id in self.province_ids

    @property
    def is_empty(self) -> bool:
        return not self.national and not self.province_ids


class ProvinceScopedQuerySet(models.QuerySet, Generic[M]):
    # Name of the field holding the owning province; models may override with
    # ``scope_field`` on the class (for example "ticket__province").
    _kefu_scope_said = False

    def _clone(self) -> Any:
        clone = super()._clone()  # type: ignore[misc]
        clone._kefu_scope_said = self._kefu_scope_said
        return clone

    def _scope_field(self) -> str:
        return getattr(self.model, "scope_field", "province")

    def scoped(self, scope: Scope) -> ProvinceScopedQuerySet[M]:
        qs = self._clone()
        qs._kefu_scope_said = True
        if scope.national:
            return qs
        if not scope.province_ids:
            return qs.none()
        return qs.filter(**{f"{self._scope_field()}__in": scope.province_ids})

    def unscoped(self, reason: str) -> ProvinceScopedQuerySet[M]:
        if not reason:
            raise ValueError("unscoped() needs a reason")
        qs = self._clone()
        qs._kefu_scope_said = True
        return qs

    def _check_scope(self) -> None:
        if not self._kefu_scope_said:
            raise ScopeMissing(
                f"{self.model.__name__} is province-owned: call .scoped(scope) or .unscoped(reason) before reading"
            )

    # Every path that reads or bulk-changes rows goes through one of these.
    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._check_scope()
        super()._fetch_all()

    def iterator(self, *args: Any, **kwargs: Any) -> Any:
        self._check_scope()
        return super().iterator(*args, **kwargs)

    def count(self) -> int:
        if self._result_cache is None:
            self._check_scope()
        return super().count()

    def exists(self) -> bool:
        if self._result_cache is None:
            self._check_scope()
        return super().exists()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._check_scope()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        self._check_scope()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._check_scope()
        return super().delete()

    def in_bulk(self, *args: Any, **kwargs: Any) -> Any:
        self._check_scope()
        return super().in_bulk(*args, **kwargs)


def as_scoped(queryset: Any) -> ProvinceScopedQuerySet[Any]:
    """A queryset of a province-owned model typed as what it is (the admin's ``get_queryset`` returns a
    plain ``QuerySet`` to the type checker)."""
    return cast(ProvinceScopedQuerySet[Any], queryset)


class ProvinceScopedManager(models.Manager.from_queryset(ProvinceScopedQuerySet)):  # type: ignore[misc]
    def get_queryset(self) -> ProvinceScopedQuerySet[Any]:
        qs = super().get_queryset()
        # Related managers carry the parent object in ``instance``. A parent that is itself
        # province-owned was fetched through a scope, so its children are in scope too. A parent
        # that is not (a team, a province, a category, a user, a policy) says nothing about
        # whose rows these are: ``team.held_tickets`` needs ``.scoped(...)`` like ``Ticket.objects``.
        instance = getattr(self, "instance", None)
        if instance is not None and is_province_owned(type(instance)):
            qs._kefu_scope_said = True
        return qs


def is_province_owned(model: type[Any]) -> bool:
    """Whether rows of ``model`` can only be read through a scope (its default manager is scoped)."""
    manager = getattr(model, "_default_manager", None)
    return isinstance(manager, ProvinceScopedManager)
