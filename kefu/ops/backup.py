"""Backup and restore drill: a consistent copy of the database and the uploaded files, with a manifest.

A backup folder holds

- ``database.dump`` (PostgreSQL, ``pg_dump -Fc`` taken inside an exported snapshot) or
  ``database.sqlite3`` (SQLite's online backup API): one consistent moment;
- ``media/``: the uploaded files, copied after the database so that every file
  a row names is there (a file uploaded meanwhile is extra, never missing);
- ``manifest.json``: when, which database, the applied migrations, for every
  table its row count and the hashes of sampled rows read in the same snapshot,
  and the SHA-256 of every file in the folder.

A restore checks every checksum first, refuses a target database or media folder
that is not empty, loads the copy (PostgreSQL in one transaction), copies the files,
and then reads the restored database in a separate process, comparing the counts
and the sampled rows with the manifest.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

FORMAT = "kefu-backup/1"
SAMPLES = 10
Say = Callable[[str], None]


class DrillError(Exception):
    """A refusal with a Chinese and an English message; nothing has been changed."""

    def __init__(self, message: str, message_en: str) -> None:
        super().__init__(f"{message} / {message_en}")
        self.message, self.message_en = message, message_en


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _row_hash(row: Iterable[Any]) -> str:
    return hashlib.sha256(repr(tuple(row)).encode()).hexdigest()[:32]


def table_stats(cursor: Any, tables: Iterable[str], pk_of: Callable[[str], str | None]) -> dict[str, Any]:
    """Row count and sampled row hashes per table: first, last and evenly spaced rows by primary key."""
    stats: dict[str, Any] = {}
    for table in sorted(tables):
        quoted = connection.ops.quote_name(table)
        cursor.execute(f"SELECT COUNT(*) FROM {quoted}")  # noqa: S608 - names come from introspection
        rows = int(cursor.fetchone()[0])
        pk = pk_of(table)
        order = connection.ops.quote_name(pk) if pk else "1"
        offsets = (
            sorted({0, max(rows - 1, 0), *(rows * i // SAMPLES for i in range(1, SAMPLES))}) if rows else []
        )
        sample: dict[str, str] = {}
        for offset in offsets:
            cursor.execute(f"SELECT * FROM {quoted} ORDER BY {order} LIMIT 1 OFFSET {int(offset)}")  # noqa: S608
            row = cursor.fetchone()
            if row is not None:
                sample[str(offset)] = _row_hash(row)
        stats[table] = {"rows": rows, "sample": sample}
    return stats


def database_stats() -> dict[str, Any]:
    """Counts and samples of every table of the default database, read in the current transaction."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)

        def pk_of(table: str) -> str | None:
            cols = connection.introspection.get_primary_key_columns(cursor, table)
            return cols[0] if cols else None

        return table_stats(cursor, tables, pk_of)


def applied_migrations() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
        latest: dict[str, str] = {}
        for app, name in cursor.fetchall():
            latest[app] = name
    return latest


@dataclass
class Summary:
    folder: Path
    tables: int
    rows: int
    files: int
    seconds: float


def _media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise DrillError(
            f"找不到 {name}(请安装 PostgreSQL 客户端)", f"{name} not found (install the PostgreSQL client)"
        )
    return path


def _pg_conninfo(cfg: Mapping[str, Any]) -> list[str]:
    args = [
        "--host",
        str(cfg.get("HOST") or "127.0.0.1"),
        "--port",
        str(cfg.get("PORT") or 5432),
        "--username",
        str(cfg.get("USER") or "postgres"),
    ]
    return args


def _pg_env(cfg: Mapping[str, Any]) -> dict[str, str]:
    import os

    env = dict(os.environ)
    if cfg.get("PASSWORD"):
        env["PGPASSWORD"] = str(cfg["PASSWORD"])
    return env


def backup(folder: Path, *, say: Say = print) -> Summary:
    """Write a consistent backup of the default database and the media folder into ``folder`` (new or empty)."""
    started = time.monotonic()
    if folder.exists() and any(folder.iterdir()):
        raise DrillError(f"备份目录不是空的:{folder}", f"the backup folder is not empty: {folder}")
    folder.mkdir(parents=True, exist_ok=True)
    vendor = connection.vendor
    manifest: dict[str, Any] = {"format": FORMAT, "created_at": timezone.now().isoformat(), "vendor": vendor}
    if vendor == "postgresql":
        db_file = folder / "database.dump"
        say("数据库快照 / database snapshot (pg_dump, exported snapshot)")
        cfg = connection.settings_dict
        with connection.cursor() as cursor:
            # The counts and the dump read the same snapshot, so the manifest describes the dump exactly.
            connection.set_autocommit(False)
            try:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
                dump = subprocess.run(  # noqa: S603 - fixed program, arguments from settings, no shell
                    [
                        _pg_tool("pg_dump"),
                        *_pg_conninfo(cfg),
                        "--format=custom",
                        "--no-owner",
                        f"--snapshot={snapshot}",
                        f"--file={db_file}",
                        str(cfg["NAME"]),
                    ],
                    env=_pg_env(cfg),
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if dump.returncode != 0:
                    raise DrillError(
                        f"pg_dump 失败:{dump.stderr.strip()}", f"pg_dump failed: {dump.stderr.strip()}"
                    )
                say("逐表计数与抽样 / counting and sampling every table")
                manifest["tables"] = database_stats()
                manifest["migrations"] = applied_migrations()
            finally:
                connection.rollback()
                connection.set_autocommit(True)
    else:
        db_file = folder / "database.sqlite3"
        say("数据库在线备份 / SQLite online backup")
        connection.ensure_connection()
        import sqlite3

        target = sqlite3.connect(db_file)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        say("逐表计数与抽样 / counting and sampling every table")
        manifest.update(stats_in_subprocess(f"sqlite:///{db_file}"))
    manifest["database"] = {
        "file": db_file.name,
        "sha256": sha256_of(db_file),
        "bytes": db_file.stat().st_size,
    }

    say("上传文件 / uploaded files")
    files = []
    media = _media_root()
    if media.exists():
        for src in sorted(p for p in media.rglob("*") if p.is_file()):
            rel = src.relative_to(media)
            dst = folder / "media" / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
            files.append(
                {"path": str(Path("media") / rel), "sha256": sha256_of(dst), "bytes": dst.stat().st_size}
            )
    manifest["files"] = files
    (folder / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    tables = manifest["tables"]
    return Summary(
        folder, len(tables), sum(t["rows"] for t in tables.values()), len(files), time.monotonic() - started
    )


def stats_in_subprocess(database_url: str) -> dict[str, Any]:
    """Counts, samples and migrations of another database, read by ``manage.py kefu_verify --print``.

    A separate process, so the rows are read through the same database driver
    settings as every other read of that database (SQLite type converters included).
    """
    import os
    import sys

    env = {**os.environ, "DATABASE_URL": database_url}
    out = subprocess.run(  # noqa: S603 - this interpreter and manage.py, no shell
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "kefu_verify", "--print"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise DrillError(
            f"无法读取数据库:{out.stderr.strip()[-500:]}",
            f"cannot read the database: {out.stderr.strip()[-500:]}",
        )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        raise DrillError(f"找不到备份清单:{path}", f"no backup manifest at {path}")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise DrillError("备份格式不认识", f"unknown backup format {manifest.get('format')!r}")
    return manifest


def check_checksums(folder: Path, manifest: dict[str, Any]) -> None:
    entries = [
        {"path": manifest["database"]["file"], "sha256": manifest["database"]["sha256"]},
        *manifest["files"],
    ]
    for entry in entries:
        path = folder / entry["path"]
        if not path.is_file() or sha256_of(path) != entry["sha256"]:
            raise DrillError(
                f"备份文件缺失或已损坏:{entry['path']}", f"backup file missing or corrupt: {entry['path']}"
            )


def _pg_is_empty(cfg: Mapping[str, Any]) -> bool:
    import psycopg

    with psycopg.connect(
        host=cfg.get("HOST") or "127.0.0.1",
        port=cfg.get("PORT") or 5432,
        user=cfg.get("USER") or "postgres",
        password=cfg.get("PASSWORD") or None,
        dbname=cfg["NAME"],
        connect_timeout=5,
    ) as conn:
        row = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        return bool(row and row[0] == 0)


def restore(folder: Path, *, database_url: str, media_root: Path, say: Say = print) -> Summary:
    """Restore ``folder`` into an empty database and an empty media folder, then verify it."""
    import dj_database_url

    started = time.monotonic()
    manifest = read_manifest(folder)
    say("校验备份文件 / checking the backup's checksums")
    check_checksums(folder, manifest)
    cfg = dj_database_url.parse(database_url)
    vendor = "postgresql" if "postgresql" in cfg["ENGINE"] else "sqlite"
    if vendor != manifest["vendor"]:
        raise DrillError(
            f"备份来自 {manifest['vendor']},目标是 {vendor}",
            f"the backup is of {manifest['vendor']}, the target is {vendor}",
        )
    if media_root.exists() and any(media_root.iterdir()):
        raise DrillError(
            f"目标文件目录不是空的:{media_root}", f"the target media folder is not empty: {media_root}"
        )
    db_file = folder / manifest["database"]["file"]
    if vendor == "postgresql":
        try:
            empty = _pg_is_empty(cfg)
        except Exception as exc:
            raise DrillError(
                f"无法连接目标数据库:{exc}", f"cannot connect to the target database: {exc}"
            ) from exc
        if not empty:
            raise DrillError(
                f"目标数据库 {cfg['NAME']} 不是空的,拒绝恢复",
                f"the target database {cfg['NAME']} is not empty",
            )
        say(f"恢复数据库 / restoring into {cfg['NAME']} (pg_restore, one transaction)")
        res = subprocess.run(  # noqa: S603 - fixed program, arguments from settings, no shell
            [
                _pg_tool("pg_restore"),
                *_pg_conninfo(cfg),
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={cfg['NAME']}",
                str(db_file),
            ],
            env=_pg_env(cfg),
            capture_output=True,
            text=True,
            check=False,
        )
        if res.returncode != 0:
            raise DrillError(
                f"pg_restore 失败,目标库未改变:{res.stderr.strip()[-500:]}",
                f"pg_restore failed, the target is unchanged: {res.stderr.strip()[-500:]}",
            )
    else:
        target = Path(cfg["NAME"])
        if target.exists() and target.stat().st_size > 0:
            raise DrillError(f"目标数据库文件已存在:{target}", f"the target database file exists: {target}")
        say(f"恢复数据库 / restoring into {target}")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(db_file, partial)
        partial.replace(target)
    say("恢复上传文件 / restoring uploaded files")
    for entry in manifest["files"]:
        dst = media_root / Path(entry["path"]).relative_to("media")
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / entry["path"], dst)
    say("核对恢复结果 / verifying the restored database against the manifest")
    found = stats_in_subprocess(database_url)
    problems = compare(manifest, found)
    if problems:
        raise DrillError(
            "恢复后核对不一致:" + "; ".join(problems[:10]),
            "the restored database differs from the manifest: " + "; ".join(problems[:10]),
        )
    tables = manifest["tables"]
    return Summary(
        folder,
        len(tables),
        sum(t["rows"] for t in tables.values()),
        len(manifest["files"]),
        time.monotonic() - started,
    )


def compare(manifest: dict[str, Any], found: dict[str, Any]) -> list[str]:
    problems = []
    if manifest["migrations"] != found["migrations"]:
        problems.append("migrations differ")
    for table, want in manifest["tables"].items():
        got = found["tables"].get(table)
        if got is None:
            problems.append(f"{table}: missing")
        elif got["rows"] != want["rows"]:
            problems.append(f"{table}: {got['rows']} rows, expected {want['rows']}")
        elif got["sample"] != want["sample"]:
            problems.append(f"{table}: sampled rows differ")
    return problems
