"""The audit trail: append-only in Python and in the database; a readable timeline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.template.loader import render_to_string
from django.utils import translation

from kefu.core import audit
from kefu.core.models import AppendOnlyError, AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(agent_bj) -> AuditEvent:
    return audit.record(
        actor=agent_bj.user,
        verb="token.issued",
        target=agent_bj.user,
        data={"team": "desk_bj"},
        province_code="110000",
        unit_code="branch_bj",
    )


def test_record_writes_one_event_with_who_what_where(event, agent_bj):
    row = AuditEvent.objects.get()
    assert (row.actor_id, row.actor_label, row.verb) == (agent_bj.user.pk, "agent_bj", "token.issued")
    assert (row.target_type, row.target_id) == ("org.user", str(agent_bj.user.pk))
    assert (row.province_code, row.unit_code, row.data) == ("110000", "branch_bj", {"team": "desk_bj"})
    assert row.at.tzinfo is not None


def test_system_events_have_no_actor(agent_bj):
    row = audit.record(actor=None, verb="sla.breached", target=agent_bj.user)
    assert row.actor_id is None and row.actor_label == "系统"


def test_model_save_of_an_existing_event_is_refused(event):
    event.verb = "token.revoked"
    with pytest.raises(AppendOnlyError):
        event.save()
    assert AuditEvent.objects.get().verb == "token.issued"


def test_model_delete_is_refused(event):
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.count() == 1


def test_queryset_update_delete_and_bulk_update_are_refused(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(verb="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    event.verb = "x"
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([event], ["verb"])
    assert AuditEvent.objects.get().verb == "token.issued"


def test_database_refuses_update(event):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET verb = 'forged' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get().verb == "token.issued"


def test_database_refuses_delete(event):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.count() == 1


def test_database_refuses_truncate_on_postgresql(event):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE (its DELETE without WHERE is refused above)")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE core_auditevent")
    assert AuditEvent.objects.count() == 1


def test_database_refuses_delete_of_every_row(event):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent")
    assert AuditEvent.objects.count() == 1


def test_timeline_is_per_object_in_order(agent_bj, agent_sh):
    audit.record(actor=agent_bj.user, verb="token.issued", target=agent_bj.user)
    audit.record(actor=agent_sh.user, verb="token.issued", target=agent_sh.user)
    audit.record(actor=agent_bj.user, verb="token.revoked", target=agent_bj.user)
    assert [e.verb for e in audit.timeline(agent_bj.user)] == ["token.issued", "token.revoked"]


def test_timeline_rows_use_beijing_time_and_the_readers_language(agent_bj):
    audit.record(actor=agent_bj.user, verb="token.issued", target=agent_bj.user, data={"team": "desk_bj"})
    AuditEvent.objects.create(
        at=datetime(2026, 1, 1, 16, 30, tzinfo=UTC),
        actor_label="系统",
        verb="no.such_verb",
        target_type="org.user",
        target_id=str(agent_bj.user.pk),
    )
    with translation.override("zh-hans"):
        rows = audit.timeline_for(agent_bj.user)
    assert [r.label for r in rows] == [
        "no.such_verb",
        "签发 API 令牌",
    ]  # ordered by time; unknown verb shown as code
    assert rows[0].at_display == "2026-01-02 00:30"  # 16:30 UTC is 00:30 next day in Beijing
    assert str(rows[0].at.tzinfo) == "Asia/Shanghai"
    assert rows[1].details == [("team", "desk_bj")]
    with translation.override("en"):
        assert audit.timeline_for(agent_bj.user)[1].label == "Issued an API token"


def test_timeline_include_renders_rows(agent_bj):
    audit.record(actor=agent_bj.user, verb="token.revoked", target=agent_bj.user)
    with translation.override("zh-hans"):
        html = render_to_string("core/_timeline.html", {"rows": audit.timeline_for(agent_bj.user)})
    assert "处理记录" in html and "吊销 API 令牌" in html and 'data-verb="token.revoked"' in html
    with translation.override("zh-hans"):
        empty = render_to_string("core/_timeline.html", {"rows": []})
    assert "暂无记录" in empty


def test_record_many_writes_the_same_rows_as_record_in_one_batch():
    at = datetime(2026, 12, 3, 4, 5, tzinfo=UTC)
    n = audit.record_many(
        [
            audit.Entry(
                verb="x.done", target_type="t.thing", target_id=str(i), data={"i": i}, province_code="js"
            )
            for i in range(3)
        ],
        at=at,
    )
    rows = list(AuditEvent.objects.filter(verb="x.done").order_by("target_id"))
    assert n == 3 and [r.target_id for r in rows] == ["0", "1", "2"]
    assert {(r.actor_id, r.actor_label, r.at, r.province_code) for r in rows} == {(None, "系统", at, "js")}
    assert audit.record_many([]) == 0
