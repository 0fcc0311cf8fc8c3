"""The table format of the isolation meta-test (``tests/test_isolation.py``).

Every app declares its routes in ``kefu/<app>/tests/isolation.py``::

    from tests.isolation_spec import ObjectRoute, ListRoute, NoObject, Public, Target

    ROUTES = {
        # web routes: the full URL pattern as Django prints it
        "customers/<int:pk>/": ObjectRoute(make=make_customer, methods=("GET", "POST")),
        # API operations: "api:<METHOD> /api<path as ninja declares it>"
        "api:GET /api/customers/{customer_id}": ObjectRoute(make=make_customer_api),
        "api:GET /api/customers": ListRoute(make=customer_marker),
        "api:GET /api/me": NoObject("the caller's own account"),
    }

A key may map to one spec or a list of them (a view that lists on GET and
creates on POST). The meta-test walks every URL pattern and every ninja
operation; a route without an entry, or an entry naming no route, fails.

How an ``ObjectRoute`` is checked (for each method in ``methods``):

1. ``make(ctx)`` builds an object owned by ``ctx.province`` (Shanghai), using
   ``ctx.owner`` (a Shanghai user) or ``ctx.user(...)``, and returns the URL
   kwargs (a dict) or a ``Target`` (kwargs, body, and what "missing" means).
2. The attacker is a Beijing user with the same team kind and role
   (``team``/``role``), so a 403 for lack of permission cannot pass for isolation.
3. The attacker's request on the Shanghai object and on a truly missing one
   must both be 404 with identical bodies (HTML compared after removing CSRF
   tokens), and every table is unchanged (row fingerprints, audit included).
4. Sanity: the Shanghai owner's ``GET`` (when listed) is not a 404, so a
   ``make`` that builds nothing cannot pass.

A ``ListRoute``'s ``make(ctx)`` builds a Shanghai object and returns a marker
string (a unique name or code): the Beijing attacker's response must not
contain it, the owner's must.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# The id used for "a truly missing object" when a spec does not say otherwise.
MISSING_ID = 987_654_321


@dataclass(frozen=True)
class Target:
    """What a request on another province's object looks like, and its missing twin."""

    path: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    # Defaults: every int in ``path`` replaced by MISSING_ID; the same body.
    missing_path: dict[str, Any] | None = None
    missing_body: dict[str, Any] | None = None
    query: dict[str, Any] | None = None

    def missing(self) -> tuple[dict[str, Any], dict[str, Any] | None]:
        path = self.missing_path
        if path is None:
            path = {k: (MISSING_ID if isinstance(v, int) else v) for k, v in self.path.items()}
            if path == self.path and self.missing_body is None:
                raise ValueError("Target needs missing_path or missing_body: no int id to replace")
        body = self.missing_body if self.missing_body is not None else self.body
        return path, body


@dataclass(frozen=True)
class ObjectRoute:
    """A route that reads or changes one province-owned (or user-owned) object."""

    make: Callable[[Any], dict[str, Any] | Target]
    methods: tuple[str, ...] = ("GET",)
    team: str = "desk"  # team code prefix: the attacker is in f"{team}_bj", the owner in f"{team}_sh"
    role: str = "supervisor"
    owner_get_ok: bool = True  # check the owner's GET is not a 404 (only when "GET" in methods)


@dataclass(frozen=True)
class ListRoute:
    """A list or search: another province's rows never appear in it."""

    make: Callable[[Any], str]  # builds a Shanghai object, returns a marker string found in its rendering
    team: str = "desk"
    role: str = "supervisor"
    query: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NoObject:
    """No object is named by the route (own account, forms, dashboards); scoping is the app's own tests'."""

    reason: str


@dataclass(frozen=True)
class Public:
    """Reachable without signing in (login page, health check, API docs)."""

    reason: str


@dataclass(frozen=True)
class AdminOnly:
    """Django admin: staff only (``tests/test_isolation.py`` checks a non-staff user is turned away)."""

    reason: str


Spec = ObjectRoute | ListRoute | NoObject | Public | AdminOnly
