"""Backup and restore drill on the demo database: backup, restore and verify seconds, on SQLite and PostgreSQL.

For each database a child process loads the demo (``manage.py demo_load``, the
same data as ``./kefu.sh run``) into a database of its own: the SQLite file
``var/bench/backup_demo/kefu.sqlite3`` and the PostgreSQL database
``kefu_bench_backup_demo`` on the server of ``KEFU_BENCH_PG_URL`` (default
``postgres://postgres@127.0.0.1:5432/kefu``); both are kept for the next run.
Then it runs the drill of ``kefu_backup`` / ``kefu_restore`` (``kefu.ops.backup``):

* **backup**: database copy (SQLite online backup / ``pg_dump -Fc`` in an exported
  snapshot), uploaded files, manifest with counts, sampled rows and checksums;
* **restore**: checksums checked, then the copy loaded into an empty database
  (``pg_restore --single-transaction``) and the files copied;
* **verify**: a separate process reads the restored database and compares every
  table's count and sampled rows with the manifest.

The phases are timed from the drill's own progress lines. The target database is
dropped afterwards. Direct use: ``.venv/bin/python bench/figures/backup_restore.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import create_database, server_url  # noqa: E402

NAME = "backup_restore"
DESCRIPTION = "Backup, restore and verify seconds for the demo database, SQLite and PostgreSQL"

ROOT = Path(__file__).resolve().parents[2]
PG_DB = "kefu_bench_backup_demo"
VAR = ROOT / "var" / "bench" / "backup_demo"


def _targets() -> dict[str, str]:
    return {
        "SQLite": f"sqlite:///{VAR / 'kefu.sqlite3'}",
        "PostgreSQL": f"{server_url().rsplit('/', 1)[0]}/{PG_DB}",
    }


def run(quick: bool) -> list[tuple[str, float, str]]:
    figures: list[tuple[str, float, str]] = [
        (
            f"load average (1 min) at start, {os.cpu_count()} CPUs (machine shared with other work)",
            round(os.getloadavg()[0], 1),
            "",
        )
    ]
    for label, url in _targets().items():
        if label == "PostgreSQL":
            create_database(PG_DB)
        VAR.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "KEFU_LOG_LEVEL": "WARNING",
            "KEFU_VAR_DIR": str(VAR),
            "KEFU_MEDIA_ROOT": str(VAR / "media"),
        }
        env.pop("KEFU_TESTING", None)
        out = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child", label],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"backup_restore ({label}) failed; see its stderr")
        figures += [tuple(row) for row in json.loads(out.stdout.strip().splitlines()[-1])]  # type: ignore[misc]
    return figures


# -- the child ----------------------------------------------------------------------


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


class Phases:
    """Marks the time of each progress line of the drill."""

    def __init__(self) -> None:
        self.marks: list[tuple[float, str]] = []

    def __call__(self, line: str) -> None:
        self.marks.append((time.monotonic(), line))
        say(f"  {line}")

    def since(self, prefix: str) -> float:
        return next(t for t, line in self.marks if line.startswith(prefix))


def child(label: str) -> list[tuple[str, float, str]]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from kefu.ops.backup import backup, restore

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("demo_load", if_empty=True, verbosity=0)  # once; the database is kept for the next run
    say(f"{label}: demo present ({time.perf_counter() - started:.0f} s)")
    work = Path(tempfile.mkdtemp(prefix="kefu-backup-bench-"))
    target_db = "kefu_bench_backup_restored"
    base = server_url().rsplit("/", 1)[0]
    try:
        with connection.cursor() as cursor:
            tables = connection.introspection.table_names(cursor)
            rows = 0
            for table in tables:
                cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
                rows += cursor.fetchone()[0]
        size = (
            f"{os.path.getsize(connection.settings_dict['NAME']) / 1e6:.0f} MB"
            if connection.vendor == "sqlite"
            else None
        )
        if size is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_database_size(current_database())")
                size = f"{cursor.fetchone()[0] / 1e6:.0f} MB"
        say(f"{label}: demo database {rows:,} rows in {len(tables)} tables, {size}")
        started = time.monotonic()
        backup(work / "backup", say=lambda line: say(f"  {line}"))
        backup_s = time.monotonic() - started
        if connection.vendor == "postgresql":
            import psycopg

            with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{target_db}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{target_db}"')
            target = f"{base}/{target_db}"
        else:
            target = f"sqlite:///{work / 'restored.sqlite3'}"
        phases = Phases()
        started = time.monotonic()
        restore(work / "backup", database_url=target, media_root=work / "media", say=phases)
        ended = time.monotonic()
        verify_from = phases.since("核对恢复结果")
        restore_s, verify_s = verify_from - started, ended - verify_from
        dump = sum(f.stat().st_size for f in (work / "backup").rglob("*") if f.is_file())
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if connection.vendor == "postgresql":
            import psycopg

            with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{target_db}" WITH (FORCE)')
    return [
        (f"{label}: demo database rows", rows, ""),
        (f"{label}: backup (database copy, files, manifest)", round(backup_s, 1), "s"),
        (f"{label}: restore (checksums, load, files)", round(restore_s, 1), "s"),
        (f"{label}: verify (counts and sampled rows, separate process)", round(verify_s, 1), "s"),
        (f"{label}: backup folder size", round(dump / 1e6, 1), "MB"),
    ]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if "--child" in sys.argv:
        print(json.dumps(child(sys.argv[sys.argv.index("--child") + 1])))
    else:
        for name, value, unit in run("--quick" in sys.argv):
            print(f"{name:62s} {value:>10} {unit}")
