"""Isolation meta-test: every URL pattern and every API operation, checked against a table.

The tables live in ``kefu/<app>/tests/isolation.py`` (format: ``tests/isolation_spec.py``).
A user of another province gets exactly the 404 of a missing id, and nothing
changes; a route without an entry fails here with its name.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from conftest import make_user
from kefu.org.access import Actor, actor_for
from kefu.org.models import Province
from tests.isolation_spec import (
    MISSING_ID,
    AdminOnly,
    ListRoute,
    NoObject,
    ObjectRoute,
    Public,
    Spec,
    Target,
)

ADMIN_KEY = "admin/"
# Tables a request may legitimately touch without changing anything of substance.
IGNORED_TABLES = {"django_session", "org_loginthrottle"}


# -- discovering routes -------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str
    kind: str  # "web" | "api" | "admin"
    pattern: str  # web: Django pattern; api: "/api/..." path with {params}
    method: str = "GET"  # api only


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str, Any]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = ":".join(x for x in (namespace, p.namespace or "") if x)
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), namespace, p.callback


def discover_routes() -> list[Route]:
    from config.api import api

    routes: dict[str, Route] = {}
    for pattern, namespace, callback in _walk(get_resolver().url_patterns):
        if "PathView" in getattr(callback, "__qualname__", ""):
            continue  # a ninja operation: listed below, one entry per method
        if namespace.split(":")[0] == "admin":
            routes.setdefault(ADMIN_KEY, Route(ADMIN_KEY, "admin", "admin/"))
            continue
        routes[pattern] = Route(pattern, "web", pattern)
    for router in api._get_bound_routers():  # what requests actually run, nested routers included
        for path, path_view in router.path_operations.items():
            full = "/api" + re.sub(
                r"/+", "/", "/" + router.prefix.strip("/") + "/" + path.lstrip("/")
            ).rstrip("/")
            for operation in path_view.operations:
                for method in operation.methods:
                    key = f"api:{method} {full}"
                    routes[key] = Route(key, "api", full, method)
    return sorted(routes.values(), key=lambda r: r.key)


def collect_tables() -> tuple[dict[str, list[Spec]], list[str]]:
    """Merge every ``kefu.<app>.tests.isolation.ROUTES``; also return duplicate keys."""
    table: dict[str, list[Spec]] = {}
    duplicates: list[str] = []
    for config in apps.get_app_configs():
        if not config.name.startswith("kefu."):
            continue
        module_name = f"{config.name}.tests.isolation"
        if (
            importlib.util.find_spec(f"{config.name}.tests") is None
            or importlib.util.find_spec(module_name) is None
        ):
            continue
        module = importlib.import_module(module_name)
        for key, spec in module.ROUTES.items():
            if key in table:
                duplicates.append(f"{key} ({module_name})")
            table[key] = list(spec) if isinstance(spec, list | tuple) else [spec]
    return table, duplicates


ROUTES = discover_routes()
TABLE, DUPLICATES = collect_tables()


def test_routes_are_discovered():
    keys = {r.key for r in ROUTES}
    assert {"accounts/login/", "api:GET /api/me", ADMIN_KEY} <= keys


def test_no_entry_names_a_missing_route():
    stale = sorted(set(TABLE) - {r.key for r in ROUTES})
    assert not stale, f"isolation entries for routes that do not exist (remove or rename them): {stale}"


def test_no_route_is_declared_twice():
    assert not DUPLICATES, f"routes declared in two isolation tables: {DUPLICATES}"


# -- helpers ------------------------------------------------------------------

_WEB_PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
_API_PARAM = re.compile(r"\{(?:\w+:)?(?P<name>\w+)\}")
_DUMMY = {
    "int": MISSING_ID,
    "str": "x",
    "slug": "x",
    "path": "x",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


def build_url(route: Route, kwargs: dict[str, Any] | None = None, query: dict[str, Any] | None = None) -> str:
    kwargs = kwargs or {}
    if route.kind == "api":
        url = _API_PARAM.sub(lambda m: str(kwargs.get(m["name"], MISSING_ID)), route.pattern)
    else:
        url = "/" + _WEB_PARAM.sub(
            lambda m: str(kwargs.get(m["name"], _DUMMY.get(m["conv"] or "str", "x"))), route.pattern
        ).lstrip("^").rstrip("$")
    if query:
        url += "?" + urlencode(query)
    return url


def send(client: Client, route: Route, method: str, url: str, body: dict[str, Any] | None) -> Any:
    if route.kind == "api":
        data = json.dumps(body) if body is not None else None
        if data is None:
            return client.generic(method, url)
        return client.generic(method, url, data, content_type="application/json")
    if method == "GET":
        return client.get(url)
    return client.generic(
        method, url, urlencode(body or {}), content_type="application/x-www-form-urlencoded"
    )


_CSRF = [
    re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")'),
    re.compile(rb'("X-CSRFToken": ")[^"]*(")'),
]


def normalized_body(response: Any, url: str) -> Any:
    """The body with what legitimately differs removed: CSRF tokens and the page's own URL (language switch)."""
    if response.get("Content-Type", "").startswith("application/json"):
        return json.loads(response.content)
    content = response.content
    for rx in _CSRF:
        content = rx.sub(rb"\1\2", content)
    return content.decode().replace(url, "{url}")


def text_of(response: Any) -> str:
    if response.get("Content-Type", "").startswith("application/json"):
        return json.dumps(json.loads(response.content), ensure_ascii=False)
    return response.content.decode()


def fingerprint() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (small in tests): catches updates, not only inserts and deletes."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    existing = set(connection.introspection.table_names())
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if not meta.managed or meta.proxy or meta.db_table in IGNORED_TABLES or meta.db_table not in existing:
            continue
        out[meta.db_table] = [
            tuple(map(repr, row)) for row in model._base_manager.order_by("pk").values_list()
        ]
    return out


def assert_unchanged(before: dict[str, Any], after: dict[str, Any], what: str) -> None:
    changed = sorted(t for t in before if before[t] != after.get(t))
    assert not changed, f"{what} changed tables {changed}"


@dataclass
class IsolationContext:
    """What ``make(ctx)`` gets: the owning province and its users."""

    province: Province  # the object's owner (Shanghai)
    other_province: Province  # the attacker's (Beijing)
    owner: Actor
    attacker: Actor
    now: Any
    shared: dict[str, Any]

    def user(self, username: str, team_code: str, role: str) -> Actor:
        return actor_for(make_user(username, team_code, role))


_serial = itertools.count(1)


def make_context(team: str, role: str) -> IsolationContext:
    n = next(_serial)
    return IsolationContext(
        province=Province.objects.get(slug="sh"),
        other_province=Province.objects.get(slug="bj"),
        owner=actor_for(make_user(f"iso_owner_sh{n}", f"{team}_sh", role)),
        attacker=actor_for(make_user(f"iso_attacker_bj{n}", f"{team}_bj", role)),
        now=timezone.now(),
        shared={},
    )


def signed_in(actor: Actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


# -- the checks ---------------------------------------------------------------


def check_object(route: Route, spec: ObjectRoute) -> None:
    ctx = make_context(spec.team, spec.role)
    made = spec.make(ctx)
    target = made if isinstance(made, Target) else Target(path=made)
    missing_path, missing_body = target.missing()
    methods = (route.method,) if route.kind == "api" else spec.methods
    attacker = signed_in(ctx.attacker)
    for method in methods:
        before = fingerprint()
        denied_url = build_url(route, target.path, target.query)
        missing_url = build_url(route, missing_path, target.query)
        denied = send(attacker, route, method, denied_url, target.body)
        missing = send(attacker, route, method, missing_url, missing_body)
        assert_unchanged(before, fingerprint(), f"{method} {route.key} by a user of another province")
        assert missing.status_code == 404, (
            f"{method} {route.key}: a missing id gave {missing.status_code}, not 404"
        )
        assert denied.status_code == 404, (
            f"{method} {route.key}: another province's object gave {denied.status_code}, not 404"
        )
        assert normalized_body(denied, denied_url) == normalized_body(missing, missing_url), (
            f"{method} {route.key}: the 404 body differs from a missing id's"
        )
    if "GET" in methods and spec.owner_get_ok:
        own = send(signed_in(ctx.owner), route, "GET", build_url(route, target.path, target.query), None)
        assert own.status_code != 404, (
            f"GET {route.key}: the owner got 404: make() does not build a visible object"
        )


def check_list(route: Route, spec: ListRoute) -> None:
    ctx = make_context(spec.team, spec.role)
    marker = spec.make(ctx)
    url = build_url(route, {}, spec.query)
    theirs = send(signed_in(ctx.attacker), route, "GET", url, None)
    own = send(signed_in(ctx.owner), route, "GET", url, None)
    assert own.status_code == 200 and marker in text_of(own), (
        f"{route.key}: the owner does not see {marker!r}"
    )
    assert theirs.status_code == 200, f"{route.key}: {theirs.status_code}"
    assert marker not in text_of(theirs), f"{route.key}: another province's {marker!r} is listed"


def check_signed_out(route: Route) -> None:
    """Every non-public route turns an anonymous caller away."""
    response = send(Client(), route, route.method if route.kind == "api" else "GET", build_url(route), None)
    if route.kind == "api":
        assert response.status_code in (401, 405), f"{route.key} anonymous: {response.status_code}"
    else:
        ok = response.status_code == 405 or (
            response.status_code == 302 and response["Location"].startswith(reverse("login"))
        )
        assert ok, f"{route.key} anonymous: {response.status_code} {response.get('Location', '')}"


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=[r.key for r in ROUTES])
def test_route_isolation(route: Route):
    specs = TABLE.get(route.key)
    assert specs, (
        f"route {route.key!r} has no isolation entry: declare it in kefu/<app>/tests/isolation.py ROUTES "
        "(see tests/isolation_spec.py)"
    )
    for spec in specs:
        if isinstance(spec, Public):
            response = send(Client(), route, route.method, build_url(route), None)
            assert response.status_code < 500, f"{route.key}: {response.status_code}"
            continue
        if isinstance(spec, AdminOnly):
            check_admin(route)
            continue
        check_signed_out(route)
        if isinstance(spec, ObjectRoute):
            check_object(route, spec)
        elif isinstance(spec, ListRoute):
            check_list(route, spec)
        else:
            assert isinstance(spec, NoObject) and spec.reason


def check_admin(route: Route) -> None:
    """Admin is for HQ administrators (is_staff): anyone else is sent to the admin login, on every model page."""
    from django.contrib import admin
    from django.urls import reverse

    agent = make_user("iso_admin_probe", "desk_bj", "supervisor")
    client = Client()
    client.force_login(agent)
    urls = [reverse("admin:index")] + [
        reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist") for m in admin.site._registry
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], (
            f"{url}: {response.status_code}"
        )
    assert Client().get(reverse("admin:index")).status_code == 302
