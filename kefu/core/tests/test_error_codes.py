"""Error codes are an enum per app, and ``details`` has one shape (docs/api.md).

The scan reads every module of kefu/ (not tests, not migrations) with ``ast``: each place that gives a
DomainError its code must name a member of its own app's enum (``kefu/<app>/codes.py``) or of core's,
never a string; every member must be raised somewhere (a documented code nobody raises is dead); no
raiser passes a list as ``details``.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import Any, cast

import pytest
from django.test import Client

from kefu.core import codescan
from kefu.core.codes import CoreCode, all_codes, app_enums
from kefu.core.errors import Conflict, DomainError, ValidationFailed


def _enum_names() -> dict[str, str]:
    return {app: enum.__name__ for app, enum in app_enums().items()}


def test_every_raise_site_names_a_member_of_its_apps_enum() -> None:
    enums = app_enums()
    by_name = {enum.__name__: enum for enum in enums.values()}
    bad = []
    sites = codescan.sites()
    assert len(sites) > 100  # the scan finds the raisers (a broken scan would pass on nothing)
    for site in sites:
        where = f"{site.path}:{site.line}"
        if site.kind != "member":
            bad.append(f"{where}: code {site.value!r} is not an enum member")
            continue
        cls, member = site.value.split(".", 1)
        allowed = {"CoreCode", enums[site.app].__name__ if site.app in enums else "CoreCode"}
        if cls not in allowed:
            bad.append(f"{where}: {site.value} is not in {sorted(allowed)}")
        elif member not in by_name[cls].__members__:
            bad.append(f"{where}: {site.value} does not exist")
    assert bad == []


def _referenced_members() -> set[str]:
    names = set(_enum_names().values())
    seen = set()
    for path in codescan.source_files():
        if path.name == "codes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in names
            ):
                seen.add(f"{node.value.id}.{node.attr}")
    return seen


def test_every_documented_code_is_raised() -> None:
    seen = _referenced_members()
    dead = [
        f"{enum.__name__}.{member.name}"
        for enum in app_enums().values()
        for member in enum
        if f"{enum.__name__}.{member.name}" not in seen
    ]
    assert dead == []


def test_every_app_with_raisers_has_its_enum() -> None:
    apps_raising = {s.app for s in codescan.sites()}
    assert apps_raising - set(app_enums()) == set()
    assert {"core", "tickets", "customers", "org"} <= set(app_enums())


def test_no_raiser_passes_a_list_as_details() -> None:
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in codescan.source_files()}
    errors = codescan.error_classes(trees)
    bad = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and codescan._name(node.func) in errors:
                for kw in node.keywords:
                    if kw.arg == "details" and isinstance(kw.value, (ast.List, ast.ListComp, ast.BinOp)):
                        bad.append(f"{path}:{node.lineno}")
    assert bad == []


def test_the_scan_sees_a_literal_code_a_forwarder_and_a_default(tmp_path: Path) -> None:
    app = tmp_path / "kefu" / "demoapp"
    app.mkdir(parents=True)
    (app / "services.py").write_text(
        textwrap.dedent(
            """
            from kefu.core.errors import Conflict, ValidationFailed
            from .codes import DemoCode

            class Late(Conflict):
                default_code = "late"

            def _refuse(zh, en, code="fallback"):
                return ValidationFailed(zh, en, code=code)

            def f():
                raise ValidationFailed("甲", "a", code="literal_one")

            def g():
                raise _refuse("乙", "b", "forwarded")

            def h():
                raise Conflict("丙", "c", code=DemoCode.FINE)
            """
        )
    )
    found = {(s.kind, s.value) for s in codescan.sites(tmp_path / "kefu")}
    assert found == {
        ("literal", "late"),
        ("literal", "fallback"),
        ("literal", "literal_one"),
        ("literal", "forwarded"),
        ("member", "DemoCode.FINE"),
    }


def test_details_is_an_object_and_field_problems_are_filled_in() -> None:
    exc = ValidationFailed("请填写标题。", "Title is required.", fields=[{"field": "title", "max": 3}])
    assert exc.as_dict()["details"] == {
        "fields": [
            {
                "field": "title",
                "message": "请填写标题。",
                "message_en": "Title is required.",
                "type": "invalid",
                "max": 3,
            }
        ]
    }
    stale = Conflict("已变化。", "Changed.", details={"current_version": 7})
    assert stale.as_dict()["details"] == {"current_version": 7} and stale.fields == []
    assert DomainError("甲", "a").as_dict()["details"] is None
    with pytest.raises(TypeError):
        ValidationFailed("甲", "a", details=cast(Any, [{"field": "x"}]))  # the old shape


def test_codes_are_plain_strings_on_the_wire() -> None:
    exc = ValidationFailed("甲", "a", code=CoreCode.NOT_FOUND)
    assert exc.code == "not_found" and type(exc.code) is str
    assert "validation_error" in all_codes() and "stale_version" in all_codes()
    assert all_codes() == sorted(set(all_codes()))


@pytest.mark.django_db
def test_the_published_error_body_lists_every_code_and_the_details_shape(client: Client) -> None:
    doc = client.get("/api/openapi.json").json()
    schemas = doc["components"]["schemas"]
    error = schemas["ErrorOut"]
    assert error["properties"]["code"]["enum"] == all_codes()
    details = error["properties"]["details"]["anyOf"]
    assert {"type": "null"} in details
    obj = next(d for d in details if d.get("type") == "object")
    assert obj["properties"]["fields"]["items"] == {"$ref": "#/components/schemas/FieldProblem"}
    assert schemas["FieldProblem"]["required"] == ["field", "message", "message_en", "type"]
    assert not any(d.get("type") == "array" for d in details)
