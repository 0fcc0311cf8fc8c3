"""The permission matrix: one place, readable, and docs/roles.md generated from it."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from kefu.org.management.commands.roles_matrix import DOC, render
from kefu.org.models import Role
from kefu.org.roles import MATRIX, roles_for


def test_docs_roles_md_is_generated_from_the_matrix():
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/roles.md is stale: run ./kefu.sh manage roles_matrix"
    )
    call_command("roles_matrix", "--check")


def test_check_fails_on_a_stale_document(tmp_path, monkeypatch):
    stale = tmp_path / "roles.md"
    stale.write_text("old", encoding="utf-8")
    monkeypatch.setattr("kefu.org.management.commands.roles_matrix.DOC", stale)
    with pytest.raises(CommandError):
        call_command("roles_matrix", "--check")
    call_command("roles_matrix")
    assert stale.read_text(encoding="utf-8") == render()


def test_every_permission_and_role_is_in_the_document():
    text = render()
    for perm in MATRIX:
        assert f"`{perm}`" in text
    for role in Role:
        assert f"`{role.value}`" in text


def test_every_role_can_do_something():
    for role in Role:
        assert any(role in holders for _d, holders in MATRIX.values()), role


def test_unknown_permission_is_a_programming_error():
    with pytest.raises(KeyError):
        roles_for("ticket.fly")


def test_role_separation_from_the_rules():
    # 第四条: the operating unit writes, the BU confirms, HQ service publishes: no role does two steps.
    assert roles_for("kb.author") == {Role.KB_AUTHOR}
    assert roles_for("kb.confirm") == {Role.KB_CONFIRMER}
    assert roles_for("kb.publish") == {Role.KB_PUBLISHER}
    assert roles_for("admin.site") == {Role.ADMIN}
