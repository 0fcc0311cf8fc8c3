"""Shared fixtures: named actors from the shipped organisation (migration 0002)."""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest

from kefu.org.access import Actor, actor_for
from kefu.org.models import Membership, Role, Team, User


def make_user(username: str, team_code: str, role: str, *, password: str = "correct-horse-42") -> User:
    user = User.objects.create_user(username=username, password=password, display_name=username)
    Membership.objects.create(user=user, team=Team.objects.get(code=team_code), role=role)
    return user


@pytest.fixture
def make_actor(db):
    def _make(username: str, team_code: str, role: str) -> Actor:
        return actor_for(make_user(username, team_code, role))

    return _make


@pytest.fixture
def agent_bj(make_actor) -> Actor:
    return make_actor("agent_bj", "desk_bj", Role.AGENT)


@pytest.fixture
def agent_sh(make_actor) -> Actor:
    return make_actor("agent_sh", "desk_sh", Role.AGENT)


@pytest.fixture
def agent_js(make_actor) -> Actor:
    return make_actor("agent_js", "desk_js", Role.AGENT)


@pytest.fixture
def lead_js(make_actor) -> Actor:
    return make_actor("lead_js", "desk_js", Role.SUPERVISOR)


@pytest.fixture
def am_gd(make_actor) -> Actor:
    return make_actor("am_gd", "am_gd", Role.ACCOUNT_MANAGER)


@pytest.fixture
def hotline_agent(make_actor) -> Actor:
    return make_actor("hotline_agent", "hotline", Role.AGENT)


@pytest.fixture
def online_agent(make_actor) -> Actor:
    return make_actor("online_agent", "online", Role.AGENT)


@pytest.fixture
def hq_reviewer(make_actor) -> Actor:
    return make_actor("hq_reviewer", "hq_service", Role.KB_PUBLISHER)


@pytest.fixture
def hq_analyst(make_actor) -> Actor:
    return make_actor("hq_analyst", "hq_service", Role.ANALYST)


@pytest.fixture
def admin_actor(make_actor) -> Actor:
    actor = make_actor("admin", "hq_service", Role.ADMIN)
    actor.user.is_staff = actor.user.is_superuser = True
    actor.user.save()
    return actor


def login_client(client, actor: Actor):
    client.force_login(actor.user)
    return client


@pytest.fixture
def is_postgres(settings) -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.fixture
def chromium_path() -> str:
    path = "/usr/bin/chromium"
    if not os.path.exists(path) and not shutil.which("chromium"):
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required for browser tests under CI (.ci/run installs it)")
        pytest.skip("Chromium not installed (apt-get install chromium): browser test skipped")
    return path if os.path.exists(path) else str(shutil.which("chromium"))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Every transactional test restores the migration-loaded data (organisation, taxonomy, calendars).

    Mixing transactional tests with and without ``serialized_rollback`` breaks
    the content-type table (the flush of one re-creates rows the other then
    restores), so all of them use it.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is None and {"live_server", "transactional_db"} & set(getattr(item, "fixturenames", [])):
            item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True), append=False)
            continue
        if marker is None or not marker.kwargs.get("transaction") or marker.kwargs.get("serialized_rollback"):
            continue
        item.add_marker(
            pytest.mark.django_db(*marker.args, **{**marker.kwargs, "serialized_rollback": True}),
            append=False,
        )


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """kefu.sla caches policies and calendars, kefu.tickets the taxonomy, per process: a test's
    rolled-back rows must not reach the next test. Nor may one test's rate-limit counters (the
    process's own cache) reach the next."""
    from kefu.calls.services import directory_clear
    from kefu.org.api_auth import token_actors_clear
    from kefu.sla.services import lookups_clear
    from kefu.tickets.selectors import taxonomy_clear

    lookups_clear()
    taxonomy_clear()
    token_actors_clear()
    directory_clear()
    _clear_local_cache()
    yield
    lookups_clear()
    taxonomy_clear()
    token_actors_clear()
    directory_clear()


def _clear_local_cache() -> None:
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    if isinstance(caches["default"], LocMemCache):  # never a shared Redis someone pointed the tests at
        caches["default"].clear()


_sqlite_keepers: list[sqlite3.Connection] = []


def _clone_test_databases(aliases) -> bool:
    """Fill each test database from the migrated template (scripts/testdb.py) instead of
    migrating it; Django's migrate then runs on the copy and finds nothing to do (or applies
    what the template lacks). False where no template applies (the caller migrates)."""
    from django.db import connections

    from scripts import testdb

    if not testdb.enabled():
        return False
    for alias in aliases:
        connection = connections[alias]
        name = connection.creation._get_test_db_name()
        if connection.vendor == "postgresql":
            cfg = connection.settings_dict
            server = f"postgres://{cfg['USER']}:{cfg['PASSWORD'] or ''}@{cfg['HOST'] or '127.0.0.1'}:{cfg['PORT'] or 5432}"
            testdb.pg_clone(server, name)
        elif connection.vendor == "sqlite" and connection.creation.is_in_memory_db(name):
            _sqlite_keepers.append(testdb.sqlite_fill(name))
        else:
            return False
    return True


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_use_migrations,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
):
    """pytest-django's own setup, except that a fresh test database is cloned from a template
    built once per migrations hash (``KEFU_TEST_TEMPLATE=0``: migrate from scratch as before).
    ``--reuse-db``/``--create-db`` keep pytest-django's behaviour."""
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _disable_migrations, _get_databases_for_setup

    keepdb = django_db_keepdb and not django_db_createdb
    if not django_db_use_migrations:
        _disable_migrations()
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    cloned = False
    with django_db_blocker.unblock():
        if not keepdb and not django_db_createdb and django_db_use_migrations:
            cloned = _clone_test_databases(aliases)
        db_cfg = setup_databases(
            verbosity=request.config.option.verbose,
            interactive=False,
            aliases=aliases,
            serialized_aliases=serialized_aliases,
            keepdb=keepdb or cloned,
        )
    yield
    if not keepdb:
        with django_db_blocker.unblock():
            try:
                teardown_databases(db_cfg, verbosity=request.config.option.verbose, keepdb=False)
            except Exception as exc:
                request.node.warn(
                    pytest.PytestWarning(f"Error when trying to teardown test databases: {exc!r}")
                )
    while _sqlite_keepers:
        _sqlite_keepers.pop().close()
