"""Migrated template databases for the test suite and the cluster test (suite runtime, session 4).

Every test run used to migrate a fresh database per pytest-xdist worker (about 20 s of CPU
each, on SQLite and on PostgreSQL) and the cluster test migrated one more. Now the schema
and the migrations' data are built once per *migrations hash* and each run clones it:

- PostgreSQL: a database ``kefu_tmpl_<hash>`` on the server; ``CREATE DATABASE … TEMPLATE``
  copies it in about a second.
- SQLite: a file ``<cache>/kefu-test-templates/sqlite-<hash>.sqlite3``; the in-memory test
  database is filled from it with SQLite's backup API.

The hash covers every migration file, every ``kefu`` module a migration imports (the seed
data), ``config/settings.py``, ``requirements.lock`` (Django's and third-party apps'
migrations) and the Python version. After the clone Django still runs ``migrate`` on the
copy, which applies anything the template lacks, so a stale template cannot hide a new
migration. ``KEFU_TEST_TEMPLATE=0`` turns all of this off (fresh migrate, as before).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "kefu_tmpl_"
# Templates not used for this long are dropped by the next build (other branches' hashes).
STALE_SECONDS = 86400
_IMPORT = re.compile(
    r"^\s*(?:from\s+(kefu[\w.]*)\s+import[ \t]+(\([\w\s,]+\)|[\w \t,]+)|import\s+(kefu[\w.]*))", re.M
)


def enabled() -> bool:
    return os.environ.get("KEFU_TEST_TEMPLATE", "1") != "0"


def _module_files(module: str, names: str = "") -> list[Path]:
    """The files of ``module`` (and of ``module.name`` for each imported name that is a module)."""
    found = []
    for dotted in [module, *(f"{module}.{n.strip()}" for n in names.strip("()").split(",") if n.strip())]:
        base = ROOT.joinpath(*dotted.split("."))
        found += [p for p in (base.with_suffix(".py"), base / "__init__.py") if p.is_file()]
    return found


def migrations_hash(env: dict[str, str] | None = None) -> str:
    """Everything a fresh ``migrate`` depends on, hashed (with the environment's test flag,
    which changes settings)."""
    env = os.environ if env is None else env
    files = set(ROOT.glob("kefu/*/migrations/*.py"))
    for migration in list(files):
        for module, names, plain in _IMPORT.findall(migration.read_text(encoding="utf-8")):
            # ``from kefu.x import y`` may name a module y as well as an attribute. The seed
            # data a migration imports (kefu.org.data, kefu.sla.data, kefu.norms.defaults) is
            # hashed; what those import in turn is not (they are plain data).
            files.update(_module_files(module or plain, names))
    for name in ("config/settings.py", "requirements.lock"):
        files.add(ROOT / name)
    digest = hashlib.sha256(f"python {sys.version_info[:2]} testing={env.get('KEFU_TESTING', '')}".encode())
    for path in sorted(files):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _migrate(database_url: str, env: dict[str, str] | None = None) -> None:
    env = {**(os.environ if env is None else env), "DATABASE_URL": database_url}
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=env, cwd=ROOT, check=True)


def _say(text: str) -> None:
    print(f"[testdb] {text}", file=sys.stderr, flush=True)


# --- PostgreSQL -------------------------------------------------------------------------------


def _pg_connect(server_url: str, dbname: str = "postgres") -> Any:
    import psycopg

    return psycopg.connect(f"{server_url.rstrip('/')}/{dbname}", autocommit=True)


def _exists(conn: Any, name: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def pg_template(server_url: str, env: dict[str, str] | None = None) -> str:
    """The name of this hash's migrated template on the server at ``server_url``
    (``postgres://user@host:port``, no database), building it if missing (``migrate`` run
    with ``env``, default this process's environment)."""
    name = PREFIX + migrations_hash(env)
    with _pg_connect(server_url) as conn:
        # One builder per hash at a time; the others wait, then clone.
        key = _lock_key(name)
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            if not _exists(conn, name):
                build = f"{name}_build_{os.getpid()}"
                conn.execute(f'DROP DATABASE IF EXISTS "{build}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{build}"')
                started = time.monotonic()
                try:
                    _migrate(f"{server_url.rstrip('/')}/{build}", env)
                except BaseException:
                    conn.execute(f'DROP DATABASE IF EXISTS "{build}" WITH (FORCE)')
                    raise
                # Published under its final name only once complete.
                conn.execute(f'ALTER DATABASE "{build}" RENAME TO "{name}"')
                _say(f"built PostgreSQL template {name} in {time.monotonic() - started:.1f} s")
            conn.execute(f"COMMENT ON DATABASE \"{name}\" IS 'kefu test template, used {int(time.time())}'")
            # Templates unused for a day, and half-built ones whose builder was killed.
            _pg_prune(conn, keep=name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
    return name


def _lock_key(template: str) -> int:
    """The advisory lock its builder holds while building ``template``."""
    return int(hashlib.sha256(template.encode()).hexdigest()[:15], 16)


def _pg_prune(conn: Any, keep: str) -> None:
    rows = conn.execute(
        "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database WHERE datname LIKE %s",
        (PREFIX.replace("_", r"\_") + "%",),
    ).fetchall()
    for datname, comment in rows:
        if "_build_" in datname:
            _drop_abandoned_build(conn, datname)
            continue
        used = re.search(r"used (\d+)", comment or "")
        if datname == keep or not used:
            continue
        if time.time() - int(used.group(1)) > STALE_SECONDS:
            with contextlib.suppress(Exception):  # someone is cloning it right now: next time
                conn.execute(f'DROP DATABASE "{datname}"')


def _drop_abandoned_build(conn: Any, datname: str) -> None:
    """A half-built template whose builder was killed: nobody holds its hash's lock any more (this
    connection may, re-entrantly, when it prunes after its own build)."""
    key = _lock_key(datname.split("_build_", 1)[0])
    if not conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
        return  # being built right now
    try:
        with contextlib.suppress(Exception):
            conn.execute(f'DROP DATABASE IF EXISTS "{datname}" WITH (FORCE)')
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


def pg_clone(server_url: str, target: str, env: dict[str, str] | None = None) -> None:
    """(Re)create database ``target`` as a copy of the migrated template."""
    template = pg_template(server_url, env)
    with _pg_connect(server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        for attempt in range(20):
            try:
                conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{template}"')
                return
            except Exception as exc:  # another run is cloning the same template this instant
                if "being accessed by other users" not in str(exc) or attempt == 19:
                    raise
                time.sleep(0.5)


# --- SQLite -----------------------------------------------------------------------------------


def _cache_dir() -> Path:
    base = os.environ.get("KEFU_TEST_TEMPLATE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kefu-test-templates"
    )
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def sqlite_template(env: dict[str, str] | None = None) -> Path:
    """This hash's migrated SQLite file, building it if missing (``migrate`` run with ``env``)."""
    cache = _cache_dir()
    final = cache / f"sqlite-{migrations_hash(env)}.sqlite3"
    with _file_lock(cache / "build.lock"):
        if not final.exists():
            build = cache / f"build-{os.getpid()}.sqlite3"
            for leftover in cache.glob(f"build-{os.getpid()}.sqlite3*"):
                leftover.unlink()
            started = time.monotonic()
            _migrate(f"sqlite:///{build}", env)
            # One self-contained file (no -wal beside it), published by rename.
            src, dst = sqlite3.connect(build), sqlite3.connect(f"{final}.tmp")
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                src.close()
                dst.close()
            os.replace(f"{final}.tmp", final)
            for leftover in cache.glob(f"build-{os.getpid()}.sqlite3*"):
                leftover.unlink()
            _say(f"built SQLite template {final.name} in {time.monotonic() - started:.1f} s")
            for old in cache.glob("sqlite-*.sqlite3"):
                if old != final and time.time() - old.stat().st_mtime > STALE_SECONDS:
                    with contextlib.suppress(OSError):
                        old.unlink()
        final.touch()
    return final


def sqlite_fill(uri: str) -> sqlite3.Connection:
    """Copy the template into the shared-cache in-memory database ``uri``; the returned
    connection keeps that database alive and must stay open as long as it is used."""
    keeper = sqlite3.connect(uri, uri=True, check_same_thread=False)
    src = sqlite3.connect(f"file:{sqlite_template()}?mode=ro", uri=True)
    try:
        src.backup(keeper)
    finally:
        src.close()
    return keeper


def sqlite_copy(path: str | Path, env: dict[str, str] | None = None) -> None:
    """Start the SQLite file ``path`` as a copy of the migrated template (for tests whose
    servers run in other processes); the caller's ``migrate`` then finds nothing to do.
    Nothing happens with ``KEFU_TEST_TEMPLATE=0`` (the caller's migrate builds it)."""
    if not enabled():
        return
    src, dst = sqlite3.connect(f"file:{sqlite_template(env)}?mode=ro", uri=True), sqlite3.connect(path)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
