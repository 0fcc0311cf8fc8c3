"""kefu.core.rows: a one-row read compiled once answers as the queryset it replaces (#16.5)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kefu.core import rows
from kefu.core.scope import Scope
from kefu.org.models import ApiToken, Team
from kefu.org.services import token_issue


def _fields(obj):
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


@pytest.mark.django_db
def test_the_row_and_its_joined_user_read_as_select_related_reads_them(agent_bj, agent_sh):
    token, _secret = token_issue(actor=agent_bj, team=Team.objects.get(code="desk_bj"), name="rows")
    token_issue(actor=agent_sh, team=Team.objects.get(code="desk_sh"), name="other")
    got = rows.one(
        ApiToken, equal=("prefix",), values=[token.prefix], is_null=("revoked_at",), related=("user",)
    )
    want = ApiToken.objects.select_related("user").get(prefix=token.prefix)
    assert got is not None and _fields(got) == _fields(want)
    assert _fields(got.user) == _fields(want.user) and got.user.username == agent_bj.user.username
    assert got.created_at.tzinfo is not None and not got._state.adding
    # A revoked token, and a prefix nobody has: no row.
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert rows.one(ApiToken, equal=("prefix",), values=[token.prefix], is_null=("revoked_at",)) is None
    assert rows.one(ApiToken, equal=("prefix",), values=["nobody"]) is None


def test_a_nullable_foreign_key_cannot_be_joined():
    from kefu.customers.models import Customer

    with pytest.raises(ValueError, match="account_manager"):
        rows.one(Customer, equal=("id",), values=[1], related=("account_manager",), scope=Scope.everything())


@pytest.mark.django_db
def test_a_province_owned_row_needs_a_scope_and_outside_it_reads_as_missing():
    from kefu.customers.models import Customer
    from kefu.customers.tests.factories import CustomerFactory, province

    bj, sh = province("bj"), province("sh")
    customer = CustomerFactory(province=sh)
    with pytest.raises(TypeError, match="scope"):
        rows.one(Customer, equal=("id",), values=[customer.pk])
    assert rows.one(Customer, equal=("id",), values=[customer.pk], scope=Scope.provinces([bj.pk])) is None
    assert rows.one(Customer, equal=("id",), values=[customer.pk], scope=Scope.nothing()) is None
    got = rows.one(Customer, equal=("id",), values=[customer.pk], scope=Scope.provinces([sh.pk]))
    assert got is not None and got.pk == customer.pk


def _prepared_on_this_connection(start: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [s for (s,) in cursor.fetchall() if s.startswith(start)]


@pytest.mark.django_db
def test_on_postgresql_a_hot_read_is_prepared_once_and_still_logged_and_translated(agent_bj, settings):
    from django.db import DataError, connection, transaction
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    token, _secret = token_issue(actor=agent_bj, team=Team.objects.get(code="desk_bj"), name="prep")
    read_sql = 'SELECT t0."id", t0."user_id", t0."team_id"'

    def read() -> ApiToken | None:
        return rows.one(ApiToken, equal=("prefix",), values=[token.prefix], related=("user",))

    with CaptureQueriesContext(connection) as captured:
        got = [read() for _ in range(3)]
    assert all(t is not None and t.user.username == agent_bj.user.username for t in got)
    # Three reads, one statement prepared on the connection; the query log still has each read's SQL.
    assert len(_prepared_on_this_connection(read_sql)) == 1
    assert [q["sql"][: len(read_sql)] for q in captured.captured_queries] == [read_sql] * 3
    # A database error through the prepared cursor is Django's own class, as through connection.cursor().
    with pytest.raises(DataError), transaction.atomic(), rows.prepared_cursor() as cursor:
        cursor.execute("SELECT 1 / %s::int", [0])
    # After that rollback psycopg forgot what it had prepared; the next read prepares it again.
    assert read() is not None and len(_prepared_on_this_connection(read_sql)) == 1
    # KEFU_DB_PREPARE=0 (a pooler that cannot keep prepared statements): nothing more is prepared.
    settings.KEFU_DB_PREPARE = False
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    assert read() is not None and _prepared_on_this_connection(read_sql) == []


@pytest.mark.django_db
def test_new_builds_what_the_constructor_builds(agent_bj):
    from kefu.core.models import AuditEvent
    from kefu.customers.tests.factories import CustomerFactory, province
    from kefu.tickets.models import Ticket

    bj = province("bj")
    customer = CustomerFactory(province=bj)
    team = Team.objects.get(code="desk_bj")
    now = timezone.now()
    given = {
        "number": "BJ1",
        "kind": "complaint",
        "province": bj,
        "customer": customer,
        "contact": None,
        "subject": "无法入会",
        "first_contact_team": team,
        "holder_team": team,
        "assignee_id": agent_bj.user.pk,
        "created_at": now,
        "updated_at": now,
    }
    fast, slow = rows.new(Ticket, **given), Ticket(**given)
    assert _fields(fast) == _fields(slow) and fast._state.adding and fast._state.db is None
    # The related objects given are cached, as the descriptors cache them: no query to read them back.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert (fast.customer, fast.province, fast.holder_team, fast.contact) == (customer, bj, team, None)
    assert captured.captured_queries == []
    # A default computed per instance (a JSON field's dict) is a new object each time.
    first, second = rows.new(AuditEvent, verb="x"), rows.new(AuditEvent, verb="x")
    assert first.data == {} == AuditEvent(verb="x").data and first.data is not second.data
    with pytest.raises(TypeError, match="nonsense"):
        rows.new(Ticket, nonsense=1)


def test_new_runs_the_constructor_when_someone_listens_to_its_signals():
    from django.db.models.signals import post_init

    from kefu.tickets.models import Ticket

    seen = []

    def listener(sender, instance, **kwargs):
        seen.append(instance)

    assert not post_init.has_listeners(Ticket)  # the fast path is the one the product takes
    post_init.connect(listener, sender=Ticket)
    try:
        built = rows.new(Ticket, subject="x")
    finally:
        post_init.disconnect(listener, sender=Ticket)
    assert seen == [built] and built.subject == "x"
    assert rows.new(Ticket, subject="y").subject == "y" and seen == [built]


@pytest.mark.django_db(transaction=True)
def test_lock_holds_the_row_for_the_callers_transaction(agent_bj):
    import psycopg
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks (its write transactions are serial)")
    token, _secret = token_issue(actor=agent_bj, team=Team.objects.get(code="desk_bj"), name="lock")
    params = connection.get_connection_params()
    other = psycopg.connect(
        **{k: v for k, v in params.items() if k in ("dbname", "user", "host", "port", "password")},
        autocommit=True,
    )
    try:
        sql = "SELECT 1 FROM org_apitoken WHERE id = %s FOR UPDATE NOWAIT"
        with transaction.atomic():
            got = rows.one(ApiToken, equal=("id",), values=[token.pk], related=("user",), lock=True)
            assert got is not None and got.user.pk == agent_bj.user.pk
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute(sql, [token.pk])
        assert other.execute(sql, [token.pk]).fetchone() == (1,)  # released with the transaction
        # The joined user is not locked: the lock is the row of the model asked for.
        with transaction.atomic():
            rows.one(ApiToken, equal=("id",), values=[token.pk], related=("user",), lock=True)
            other.execute("SELECT 1 FROM org_user WHERE id = %s FOR UPDATE NOWAIT", [agent_bj.user.pk])
    finally:
        other.close()
