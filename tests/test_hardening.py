"""Findings of the hostile run (issue #15): caching, health, the off-rule queue, attachments, idempotency keys."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client

from kefu.org.models import Team
from kefu.org.services import token_issue
from kefu.tickets.attachments import Upload, check, looks_like_markup
from kefu.tickets.models import IdempotencyKey, Ticket
from kefu.tickets.tests.factories import customer_in

pytestmark = pytest.mark.django_db


# -- #15.3 Cache-Control ------------------------------------------------------------------


def test_signed_in_pages_and_api_answers_are_not_stored(client, agent_bj):
    client.force_login(agent_bj.user)
    for url in ("/", "/tickets/", "/api/me", "/api/tickets", "/nowhere"):
        response = client.get(url)
        assert response["Cache-Control"] == "no-store, private", url


def test_bearer_token_answers_are_not_stored(agent_bj):
    _, secret = token_issue(actor=agent_bj, team=Team.objects.get(code="desk_bj"), name="t")
    response = Client().get("/api/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"


def test_signing_in_is_not_stored_but_the_anonymous_login_page_may_be(client, agent_bj):
    assert "no-store" not in client.get("/accounts/login/").get("Cache-Control", "")
    response = client.post("/accounts/login/", {"username": "agent_bj", "password": "correct-horse-42"})
    assert response.status_code == 302
    assert response["Cache-Control"] == "no-store, private"


# -- #15.8 /healthz ----------------------------------------------------------------------


def test_healthz_ok_names_its_checks(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": ["database"]}


def test_healthz_answers_503_naming_the_database_when_it_is_down(client):
    with mock.patch("kefu.core.views.connection.cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "failing": ["database"],
        "errors": {"database": "OperationalError"},
    }


# -- #15.4 the off-rule queue: supervisors only, on the page and in the API ----------------


def test_off_rule_queue_is_supervisors_only_in_the_api_as_on_the_page(client, agent_js, lead_js):
    client.force_login(agent_js.user)
    api = client.get("/api/tickets", {"queue": "off_rule"})
    page = client.get("/tickets/", {"queue": "off_rule"})
    assert (api.status_code, page.status_code) == (403, 403)
    assert api.json()["code"] == "permission_denied"
    client.force_login(lead_js.user)
    api = client.get("/api/tickets", {"queue": "off_rule"})
    page = client.get("/tickets/", {"queue": "off_rule"})
    assert (api.status_code, page.status_code) == (200, 200)
    assert set(api.json()) >= {"items", "has_more"} and isinstance(api.json()["items"], list)
    assert page["Content-Type"].startswith("text/html") and b"off_rule" in page.content


# -- #15.5 markup hidden behind a byte-order mark, whitespace or UTF-16 --------------------

MARKUP_FILES = {
    "utf8_bom": b"\xef\xbb\xbf<html><script>alert(1)</script></html>",
    "utf8_bom_whitespace": b"\xef\xbb\xbf \r\n\t<!DOCTYPE html><p>x",
    "whitespace": b"\n\n   <svg onload=alert(1)>",
    "utf16le_bom": "\ufeff<html><body>x</body></html>".encode("utf-16-le"),
    "utf16be_bom": "\ufeff  <script>alert(1)</script>".encode("utf-16-be"),
    "utf16le_no_bom": "<html>x</html>".encode("utf-16-le"),
    "utf16be_no_bom": "<?xml version='1.0'?><svg/>".encode("utf-16-be"),
    "upper_case": b"<HTML><BODY>",
}


@pytest.mark.parametrize("name", sorted(MARKUP_FILES))
def test_markup_is_refused_whatever_precedes_or_encodes_it(name):
    content = MARKUP_FILES[name]
    assert looks_like_markup(content)
    with pytest.raises(Exception) as caught:
        check(Upload(name="notes.txt", content=content))
    assert getattr(caught.value, "code", "") in ("file_markup", "file_encoding"), caught.value


@pytest.mark.parametrize(
    "content",
    [
        "客户反映登录失败，错误码 1001。".encode(),
        b"\xef\xbb\xbfa,b,c\n1,2,3\n",
        "\ufeff会议号 123 < 456".encode("utf-16-le"),
        b"x < y and <b is not a tag at the start",
    ],
)
def test_plain_text_is_not_taken_for_markup(content):
    assert not looks_like_markup(content)


def test_a_text_file_with_a_bom_and_markup_is_refused_as_markup():
    with pytest.raises(Exception) as caught:
        check(Upload(name="a.txt", content=MARKUP_FILES["utf8_bom"]))
    assert caught.value.code == "file_markup"  # type: ignore[attr-defined]


# -- #15.6 over-long Idempotency-Key -----------------------------------------------------


def _create(client, key: str):
    customer = customer_in("bj")
    body = {"kind": "consultation", "customer_id": customer.pk, "subject": "咨询", "description": "客户来电"}
    return client.post(
        "/api/tickets", json.dumps(body), content_type="application/json", headers={"Idempotency-Key": key}
    )


def test_an_over_long_idempotency_key_is_refused_and_nothing_is_written(client, agent_bj):
    client.force_login(agent_bj.user)
    before = Ticket.objects.unscoped("test").count()
    response = _create(client, "k" * 101)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_too_long"
    assert Ticket.objects.unscoped("test").count() == before
    assert not IdempotencyKey.objects.exists()


def test_two_keys_sharing_a_long_prefix_are_not_the_same_key(client, agent_bj):
    client.force_login(agent_bj.user)
    first = _create(client, "p" * 99 + "a")
    assert first.status_code == 201, first.content
    second = _create(client, "p" * 99 + "a" + "b")
    assert second.status_code == 422
    third = _create(client, "p" * 99 + "b")
    assert third.status_code == 201
    assert third.json()["number"] != first.json()["number"]


# -- #17.7 front-end weight ---------------------------------------------------------------------


def test_pages_are_compressed_for_clients_that_accept_it(client, agent_bj):
    client.force_login(agent_bj.user)
    response = client.get("/tickets/", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    import gzip

    assert b"</html>" in gzip.decompress(response.content)
    plain = client.get("/tickets/")
    assert "Content-Encoding" not in plain


def test_static_files_are_hashed_and_precompressed(tmp_path, settings):
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    # (changing STORAGES resets staticfiles_storage: django.test.signals)
    call_command("collectstatic", "--noinput", "-v", "0")
    hashed = staticfiles_storage.stored_name("kefu/app.css")
    assert hashed != "kefu/app.css" and hashed.startswith("kefu/app.") and hashed.endswith(".css")
    assert (tmp_path / hashed).exists() and (tmp_path / f"{hashed}.gz").exists()
    assert (tmp_path / staticfiles_storage.stored_name("kefu/favicon.svg")).exists()


def test_pages_name_a_favicon(client):
    assert b'rel="icon"' in client.get("/accounts/login/").content


# -- #15.7 the audit trail refuses DELETE/TRUNCATE; only the test runner's flush takes the guard down ------


@pytest.mark.django_db(transaction=True)
def test_flush_between_transactional_tests_empties_the_audit_table(agent_bj):
    from kefu.core import audit
    from kefu.core.models import AuditEvent

    audit.record(actor=agent_bj.user, verb="token.issued", target=agent_bj.user)
    assert AuditEvent.objects.count() == 1  # the flush after this test must not fail on it


@pytest.mark.django_db(transaction=True)
def test_after_a_flush_the_guard_is_back(agent_bj):
    from django.db import DatabaseError, connection, transaction

    from kefu.core import audit
    from kefu.core.models import AuditEvent

    assert AuditEvent.objects.count() == 0
    audit.record(actor=agent_bj.user, verb="token.issued", target=agent_bj.user)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent")
    assert AuditEvent.objects.count() == 1


RUNTIME_ROLE_SQL = [
    # docs/deploy.md "Database roles": the same grants, in the test's transaction (rolled back after).
    "CREATE ROLE kefu_runtime_probe NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE",
    "GRANT USAGE ON SCHEMA public TO kefu_runtime_probe",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO kefu_runtime_probe",
    "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO kefu_runtime_probe",
    "REVOKE UPDATE, DELETE, TRUNCATE ON core_auditevent FROM kefu_runtime_probe",
]


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM core_auditevent",
        "TRUNCATE core_auditevent",
        "UPDATE core_auditevent SET verb = 'forged'",
        "ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_no_update",
        "DROP TRIGGER core_auditevent_no_truncate ON core_auditevent",
        "CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger AS $$ BEGIN RETURN OLD; END; $$ "
        "LANGUAGE plpgsql",
    ],
)
def test_the_runtime_role_cannot_touch_the_audit_trail_or_its_triggers(agent_bj, is_postgres, statement):
    if not is_postgres:
        pytest.skip("database roles are PostgreSQL's")
    from django.db import DatabaseError, connection, transaction

    from kefu.core import audit
    from kefu.core.models import AuditEvent

    audit.record(actor=agent_bj.user, verb="token.issued", target=agent_bj.user)
    with connection.cursor() as cursor:
        for sql in RUNTIME_ROLE_SQL:
            cursor.execute(sql)
        cursor.execute("SET ROLE kefu_runtime_probe")
        try:
            cursor.execute(
                "INSERT INTO core_auditevent (at, actor_label, unit_code, province_code, verb, "
                "target_type, target_id, data) VALUES (now(), 'x', '', '', 'probe', 'x', '1', '{}')"
            )
            with pytest.raises(DatabaseError), transaction.atomic():
                cursor.execute(statement)
        finally:
            cursor.execute("RESET ROLE")
    assert AuditEvent.objects.filter(verb="token.issued").count() == 1
    assert AuditEvent.objects.filter(verb="probe").count() == 1  # it can still append


# -- #15.12 user foreign keys PROTECT ----------------------------------------------------------


def test_a_user_with_memberships_cannot_be_deleted_only_deactivated(agent_bj):
    from django.db.models import ProtectedError

    from kefu.org.models import Membership

    with pytest.raises(ProtectedError):
        agent_bj.user.delete()
    assert Membership.objects.filter(user=agent_bj.user).count() == 1


# -- #15.12 configuration edited in the admin is audited -----------------------------------------


def test_editing_a_team_in_the_admin_writes_one_config_event(client, admin_actor):
    from kefu.core.models import AuditEvent

    client.force_login(admin_actor.user)
    team = Team.objects.get(code="desk_bj")
    url = f"/admin/org/team/{team.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: form.initial.get(name, "") for name in form.fields}
    data = {k: ("" if v is None else (v.pk if hasattr(v, "pk") else v)) for k, v in data.items()}
    data["email"] = "desk-bj@example.com"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(verb="config.changed")
    assert (event.target_type, event.target_id, event.actor_id) == (
        "org.team",
        str(team.pk),
        admin_actor.user.pk,
    )
    assert event.data["fields"] == ["email"]


def test_deleting_a_holiday_in_the_admin_is_recorded_before_it_goes(client, admin_actor):
    from datetime import date

    from kefu.core.models import AuditEvent
    from kefu.sla.models import Holiday

    client.force_login(admin_actor.user)
    holiday = Holiday.objects.create(date=date(2031, 1, 1), kind=Holiday.Kind.OFF, name="测试假日")
    response = client.post(f"/admin/sla/holiday/{holiday.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(verb="config.deleted")
    assert (event.target_type, event.target_id) == ("sla.holiday", str(holiday.pk))
    assert not Holiday.objects.filter(pk=holiday.pk).exists()
