"""The migrated template's key (scripts/testdb.py): it changes with whatever a fresh ``migrate``
depends on, and only with that, so a stale template is never cloned."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import testdb


@pytest.fixture
def tree(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / "kefu/org/migrations").mkdir(parents=True)
    (tmp_path / "kefu/org/__init__.py").write_text("")
    (tmp_path / "kefu/org/data.py").write_text("PROVINCES = ['北京']\n")
    (tmp_path / "kefu/org/views.py").write_text("x = 1\n")
    (tmp_path / "kefu/org/migrations/0001_initial.py").write_text("operations = []\n")
    (tmp_path / "kefu/org/migrations/0002_seed.py").write_text(
        "def load(apps, schema_editor):\n    from kefu.org.data import (\n        PROVINCES,\n    )\n"
    )
    (tmp_path / "config").mkdir()
    (tmp_path / "config/settings.py").write_text("TIME_ZONE = 'Asia/Shanghai'\n")
    (tmp_path / "requirements.lock").write_text("django==5.2.19\n")
    monkeypatch.setattr(testdb, "ROOT", tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "path",
    ["kefu/org/migrations/0001_initial.py", "kefu/org/data.py", "config/settings.py", "requirements.lock"],
)
def test_the_key_changes_with_every_input_of_migrate(tree, path):
    before = testdb.migrations_hash({})
    (tree / path).write_text((tree / path).read_text() + "# changed\n")
    assert testdb.migrations_hash({}) != before


def test_a_new_migration_changes_the_key(tree):
    before = testdb.migrations_hash({})
    (tree / "kefu/org/migrations/0003_more.py").write_text("operations = []\n")
    assert testdb.migrations_hash({}) != before


def test_code_no_migration_reads_leaves_the_key_alone(tree):
    before = testdb.migrations_hash({})
    (tree / "kefu/org/views.py").write_text("x = 2\n")
    assert testdb.migrations_hash({}) == before


def test_the_test_flag_has_its_own_template(tree):
    assert testdb.migrations_hash({"KEFU_TESTING": "1"}) != testdb.migrations_hash({})


def test_switched_off_copies_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("KEFU_TEST_TEMPLATE", "0")
    testdb.sqlite_copy(tmp_path / "db.sqlite3")
    assert not (tmp_path / "db.sqlite3").exists()


def test_a_half_built_template_is_dropped_once_its_builder_is_gone(settings):
    """A builder killed mid-migrate leaves ``<template>_build_<pid>``; the next run drops it, unless
    its hash's builder still holds the lock."""
    import psycopg

    server = _server(settings)
    abandoned = f"{testdb.PREFIX}feedfacecafe_build_4242"
    building = f"{testdb.PREFIX}beefbeefbeef_build_4343"
    with (
        psycopg.connect(f"{server}/postgres", autocommit=True) as conn,
        psycopg.connect(f"{server}/postgres", autocommit=True) as builder,
    ):
        for name in (abandoned, building):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        key = testdb._lock_key(building.split("_build_")[0])
        builder.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            testdb._pg_prune(conn, keep=f"{testdb.PREFIX}nothing")
            left = {r[0] for r in conn.execute("SELECT datname FROM pg_database").fetchall()}
            assert abandoned not in left and building in left
        finally:
            builder.execute("SELECT pg_advisory_unlock(%s)", (key,))
            conn.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')


def _server(settings) -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("PostgreSQL templates")
    user = db["USER"] or "postgres"
    if db["PASSWORD"]:
        user += f":{db['PASSWORD']}"
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
