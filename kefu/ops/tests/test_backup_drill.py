"""Backup and restore drill: a consistent copy, a verified restore, and refusals that change nothing."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from kefu.core import audit
from kefu.ops.backup import DrillError, backup, restore
from kefu.org.models import Province

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(tmp_path, settings):
    root = tmp_path / "media"
    (root / "tickets" / "2026").mkdir(parents=True)
    (root / "tickets" / "2026" / "a1").write_bytes(b"%PDF-1.4 attachment")
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def target(tmp_path):
    """An empty database of the same kind as the suite's: a new PostgreSQL database or a new SQLite file."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    cfg = connection.settings_dict
    name = f"kefu_restore_{uuid.uuid4().hex[:10]}"
    dsn = dict(
        host=cfg["HOST"] or "127.0.0.1",
        port=cfg["PORT"] or 5432,
        user=cfg["USER"] or "postgres",
        password=cfg["PASSWORD"] or None,
        autocommit=True,
    )
    with psycopg.connect(dbname="postgres", **dsn) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    auth = cfg["USER"] + (f":{cfg['PASSWORD']}" if cfg["PASSWORD"] else "")
    yield f"postgres://{auth}@{dsn['host']}:{dsn['port']}/{name}"
    with psycopg.connect(dbname="postgres", **dsn) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _audit_once() -> None:
    audit.record(
        actor=None, verb="ops.drill", target=Province.objects.get(slug="bj"), data={"note": "备份演练"}
    )


def test_backup_then_restore_gives_the_same_rows_and_files(tmp_path, media, target):
    _audit_once()
    folder = tmp_path / "backup"
    taken = backup(folder, say=lambda _: None)
    assert taken.files == 1 and taken.rows > 31  # provinces, teams, the audit row …
    restored_media = tmp_path / "restored-media"

    done = restore(folder, database_url=target, media_root=restored_media, say=lambda _: None)

    assert (done.tables, done.rows, done.files) == (taken.tables, taken.rows, 1)
    assert (restored_media / "tickets" / "2026" / "a1").read_bytes() == b"%PDF-1.4 attachment"


def test_a_restore_into_a_database_that_is_not_empty_is_refused_and_changes_nothing(tmp_path, media, target):
    folder = tmp_path / "backup"
    backup(folder, say=lambda _: None)
    restore(folder, database_url=target, media_root=tmp_path / "m1", say=lambda _: None)
    before = Province.objects.count()

    with pytest.raises(DrillError) as refused:
        restore(folder, database_url=target, media_root=tmp_path / "m2", say=lambda _: None)

    assert "不是空的" in refused.value.message or "已存在" in refused.value.message
    assert "not empty" in refused.value.message_en or "exists" in refused.value.message_en
    assert not (tmp_path / "m2").exists() and Province.objects.count() == before


def test_a_corrupt_backup_is_refused_before_anything_is_written(tmp_path, media, target):
    folder = tmp_path / "backup"
    backup(folder, say=lambda _: None)
    (folder / "media" / "tickets" / "2026" / "a1").write_bytes(b"tampered")

    with pytest.raises(DrillError) as refused:
        restore(folder, database_url=target, media_root=tmp_path / "m", say=lambda _: None)

    assert "a1" in refused.value.message_en
    assert not (tmp_path / "m").exists()
    if target.startswith("sqlite"):
        assert not Path(target.removeprefix("sqlite:///")).exists()


def test_backup_refuses_a_folder_that_is_not_empty(tmp_path, media):
    folder = tmp_path / "backup"
    folder.mkdir()
    (folder / "keep.txt").write_text("x")
    with pytest.raises(DrillError):
        backup(folder, say=lambda _: None)
    assert [p.name for p in folder.iterdir()] == ["keep.txt"]


def test_commands_print_progress_and_the_summary(tmp_path, media, target, capsys):
    call_command("kefu_backup", str(tmp_path / "b"))
    call_command("kefu_restore", str(tmp_path / "b"), database_url=target, media_root=str(tmp_path / "m"))
    call_command("kefu_verify", str(tmp_path / "b"))
    out = capsys.readouterr().out
    assert "backup written" in out and "restored and verified" in out and "matches the manifest" in out


@pytest.mark.django_db
def test_compare_names_every_kind_of_difference():
    from kefu.ops.backup import compare

    want = {
        "migrations": {"core": "0003"},
        "tables": {
            "a": {"rows": 2, "sample": {"0": "x"}},
            "b": {"rows": 1, "sample": {}},
            "c": {"rows": 1, "sample": {"0": "y"}},
        },
    }
    got = {
        "migrations": {"core": "0002"},
        "tables": {"a": {"rows": 3, "sample": {"0": "x"}}, "c": {"rows": 1, "sample": {"0": "z"}}},
    }
    assert compare(want, got) == [
        "migrations differ",
        "a: 3 rows, expected 2",
        "b: missing",
        "c: sampled rows differ",
    ]
    assert compare(want, want) == []
