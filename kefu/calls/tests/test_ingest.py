"""The one ingest service: idempotent on (source, call id), order-free, files with line-numbered rejects."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from kefu.calls import services
from kefu.calls.models import AgentMapping, Call, CallSource, HalfHour, IngestRun, Outcome, SlotDelta
from kefu.calls.parsers import parse_cti
from kefu.core.errors import ValidationFailed
from kefu.core.models import AuditEvent

SAMPLES = Path(__file__).parent / "samples"
T0 = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # 09:00 Beijing


@pytest.fixture
def src(db):
    return CallSource.objects.create(
        code="pbx", name="PBX", auth="hmac", secret="s3cret", max_events_per_minute=50
    )


def cti(event: str, at: datetime, **kw):
    payload = {
        "event": event,
        "callId": kw.pop("callId", "c1"),
        "from": "13800138000",
        "to": "4009208566",
        "direction": "in",
        **kw,
    }
    return parse_cti(payload, received_at=at)


def the_call(src):
    return Call.objects.unscoped("test").get(source=src, call_id="c1")


def test_same_event_five_times_serially_is_one_record(src):
    fact = cti("newCall", T0, queue="hotline")
    for _ in range(5):
        services.cti_event_ingest(source=src, fact=fact)
    assert Call.objects.unscoped("test").count() == 1
    call = the_call(src)
    assert call.outcome == Outcome.QUEUED and len(call.events) == 1
    assert call.line.code == "hotline" and call.province_id is None


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0), (2, 0, 1)])
def test_events_in_any_order_give_the_same_call(src, order):
    events = [
        cti("newCall", T0, queue="hotline"),
        cti("answer", T0 + timedelta(seconds=18), answeringNumber="8001"),
        cti("hangup", T0 + timedelta(minutes=4), cause="normalClearing"),
    ]
    for i in order:
        services.cti_event_ingest(source=src, fact=events[i])
    call = the_call(src)
    assert (call.request_at, call.answered_at, call.ended_at) == (
        T0,
        T0 + timedelta(seconds=18),
        T0 + timedelta(minutes=4),
    )
    assert call.outcome == Outcome.ANSWERED and call.answered_in_target and call.wait_seconds == 18
    assert call.agent_ref == "8001" and call.agent_unknown  # no mapping for 8001: stored and flagged
    services.rollups_fold()
    assert not SlotDelta.objects.unscoped("test").exists()
    row = HalfHour.objects.unscoped("test").get(line=call.line, slot=T0)
    assert (row.offered, row.answered, row.answered_in_target, row.in_hours) == (1, 1, 1, True)


def test_hangup_before_answer_and_a_repeated_newcall(src, hotline_agent):
    AgentMapping.objects.create(ref="8002", user=hotline_agent.user)
    services.cti_event_ingest(source=src, fact=cti("newCall", T0))  # in the IVR
    services.cti_event_ingest(source=src, fact=cti("hangup", T0 + timedelta(seconds=80)))
    services.cti_event_ingest(source=src, fact=cti("newCall", T0 + timedelta(seconds=10), queue="hotline"))
    services.cti_event_ingest(
        source=src, fact=cti("answer", T0 + timedelta(seconds=31), answeringNumber="8002")
    )
    call = the_call(src)
    assert call.request_at == T0 + timedelta(seconds=10)  # the repeated newCall carrying the queue
    assert call.started_at == T0
    assert call.agent_id == hotline_agent.user.pk and not call.agent_unknown
    assert call.wait_seconds == 21 and not call.answered_in_target and call.outcome == Outcome.ANSWERED


def test_a_call_ended_in_the_ivr_is_not_a_request(src):
    services.cti_event_ingest(source=src, fact=cti("newCall", T0))
    services.cti_event_ingest(
        source=src, fact=cti("hangup", T0 + timedelta(seconds=40), cause="normalClearing")
    )
    call = the_call(src)
    assert call.outcome == Outcome.IVR and call.request_at is None
    assert not SlotDelta.objects.unscoped("test").exists()
    services.rollups_fold()
    assert not HalfHour.objects.unscoped("test").exists()


def test_unknown_line_is_refused_and_nothing_stored(src):
    with pytest.raises(ValidationFailed):
        services.cti_event_ingest(source=src, fact=cti("newCall", T0, to="02188886666"))
    assert not Call.objects.unscoped("test").exists()


def test_queue_log_file_rejects_by_line_and_is_idempotent(src, admin_actor):
    data = (SAMPLES / "queue_log").read_bytes()
    run = services.file_ingest(
        actor=admin_actor, source=src, fmt="queue_log", filename="queue_log", data=data
    )
    assert (run.calls_created, run.lines_total, run.lines_rejected) == (3, 12, 3)
    assert [r["line"] for r in run.rejects] == [10, 11, 12]
    calls = {c.call_id: c for c in Call.objects.unscoped("test")}
    assert calls["1764723600.101"].outcome == Outcome.ANSWERED and calls["1764723600.101"].talk_seconds == 180
    assert calls["1764723700.201"].outcome == Outcome.ABANDONED
    assert calls["1764723800.301"].outcome == Outcome.OVERFLOWED
    before = list(Call.objects.unscoped("test").order_by("pk").values())
    again = services.file_ingest(
        actor=admin_actor, source=src, fmt="queue_log", filename="queue_log", data=data
    )
    assert again.repeated and (again.calls_created, again.calls_updated) == (0, 0)
    assert list(Call.objects.unscoped("test").order_by("pk").values()) == before
    slot = HalfHour.objects.unscoped("test").get(slot=datetime(2025, 12, 3, 1, 0, tzinfo=UTC))
    assert (slot.offered, slot.answered, slot.answered_in_target, slot.abandoned) == (3, 1, 1, 1)
    assert AuditEvent.objects.filter(verb="calls.file_ingested").count() == 2


def test_a_file_in_an_unknown_encoding_stores_nothing(src, admin_actor):
    with pytest.raises(ValidationFailed) as exc:
        services.file_ingest(
            actor=admin_actor, source=src, fmt="sheet", filename="x.csv", data=b"\xff\xfe\x00\x00a"
        )
    assert exc.value.code == "bad_file"
    assert not IngestRun.objects.exists() and not Call.objects.unscoped("test").exists()


def test_cdr_and_sheet_feed_the_same_service(src, admin_actor):
    run = services.file_ingest(
        actor=admin_actor,
        source=src,
        fmt="cdr_csv",
        filename="Master.csv",
        data=(SAMPLES / "Master.csv").read_bytes(),
    )
    assert (run.calls_created, run.lines_rejected) == (3, 2)
    sheet = (
        "呼叫标识,线路,主叫号码,进入队列时间,接通时间,结束时间,坐席工号,结果\n"
        "S1,desk_sh,13800138000,2026-12-03 09:00:00,2026-12-03 09:00:25,2026-12-03 09:05:00,8001,接通\n"
    )
    run = services.file_ingest(
        actor=admin_actor, source=src, fmt="sheet", filename="s.csv", data=sheet.encode("gbk")
    )
    assert run.encoding == "gbk" and run.calls_created == 1
    call = Call.objects.unscoped("test").get(call_id="S1")
    assert call.line.code == "desk_sh" and call.province.slug == "sh" and not call.answered_in_target


# -- the webhook ------------------------------------------------------------------------------------------


def post(
    client: Client, body: dict, *, secret: str = "s3cret", stamp: int | None = None, source: str = "pbx"
):
    raw = json.dumps(body).encode()
    stamp_text = str(stamp if stamp is not None else int(time.time()))
    return client.post(
        f"/calls/cti/{source}/",
        raw,
        content_type="application/json",
        HTTP_X_KEFU_TIMESTAMP=stamp_text,
        HTTP_X_KEFU_SIGNATURE="sha256=" + services.sign(secret, stamp_text, raw),
    )


BODY = {
    "event": "newCall",
    "callId": "w1",
    "from": "13800138000",
    "to": "4009208566",
    "direction": "in",
    "queue": "hotline",
}


def test_webhook_signed_event_is_stored(src, client):
    response = post(client, BODY)
    assert response.status_code == 200, response.content
    assert Call.objects.unscoped("test").filter(call_id="w1").count() == 1


@pytest.mark.parametrize("kw", [{"secret": "wrong"}, {"stamp": int(time.time()) - 301}, {"source": "nope"}])
def test_webhook_bad_signature_stale_or_unknown_source_is_401_and_stores_nothing(src, client, kw):
    response = post(client, BODY, **kw)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized" and response.json()["message_en"]
    assert not Call.objects.unscoped("test").exists() and not AuditEvent.objects.exists()


def test_webhook_token_source_and_form_body(db, client):
    src = CallSource.objects.create(code="tok", name="T", auth="token", token_hash=services.token_hash("abc"))
    form = {"event": "newCall", "callId": "f1", "from": "13800138000", "to": "4009208566", "user[]": "8001"}
    assert client.post("/calls/cti/tok/", form, HTTP_X_KEFU_TOKEN="bad").status_code == 401
    assert client.post("/calls/cti/tok/", form, HTTP_X_KEFU_TOKEN="abc").status_code == 200
    assert Call.objects.unscoped("test").get(source=src).call_id == "f1"


def test_webhook_bad_event_is_422_nothing_stored(src, client):
    response = post(client, {**BODY, "event": "explode"})
    assert response.status_code == 422 and "unknown event" in response.json()["message_en"]
    assert not Call.objects.unscoped("test").exists()


def test_webhook_flood_is_rate_limited(src, client):
    from django.core.cache import cache

    cache.clear()
    src.max_events_per_minute = 3
    src.save()
    codes = [post(client, {**BODY, "callId": f"r{i}"}).status_code for i in range(5)]
    assert codes.count(429) >= 1 and codes[:3] == [200, 200, 200]


@pytest.mark.django_db(transaction=True)
def test_same_event_five_times_in_parallel_is_one_record(is_postgres):
    if not is_postgres:
        pytest.skip("parallel writers need PostgreSQL (SQLite serialises the whole database)")
    src = CallSource.objects.create(code="par", name="P", auth="hmac", secret="k")
    fact = cti("newCall", T0, queue="hotline", callId="p1")
    errors: list[BaseException] = []
    barrier = threading.Barrier(5)

    def worker() -> None:
        try:
            barrier.wait()
            services.cti_event_ingest(source=src, fact=fact)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Call.objects.unscoped("test").filter(source=src, call_id="p1").count() == 1
    services.rollups_fold()
    assert HalfHour.objects.unscoped("test").get(slot=T0).offered == 1


def test_events_read_the_rolling_hour_at_most_once_a_half_minute_per_line(src, monkeypatch):
    """A peak hour is thousands of calls: reading them all on each of their events was most of an
    event's cost (bench/run cti_webhook). The 5-minute job still reads it every time."""
    reads = []
    real = services.rolling_hour
    monkeypatch.setattr(services, "rolling_hour", lambda line, now: reads.append(line.pk) or real(line, now))
    clock = [datetime(2026, 12, 3, 2, 0, 0, tzinfo=UTC)]  # on a half-minute boundary
    monkeypatch.setattr(services.timezone, "now", lambda: clock[0])
    for i in range(5):
        clock[0] += timedelta(seconds=5)
        services.cti_event_ingest(source=src, fact=cti("newCall", clock[0], callId=f"p{i}", queue="hotline"))
    assert len(reads) == 1
    clock[0] += timedelta(seconds=services.ALERT_CHECK_EVERY_S)
    services.cti_event_ingest(source=src, fact=cti("answer", clock[0], callId="p0"))
    services.cti_event_ingest(source=src, fact=cti("answer", clock[0], callId="p1"))
    assert len(reads) == 2
    line = Call.objects.unscoped("test").get(source=src, call_id="p0").line_id
    assert reads == [line, line]
    services.alerts_check(now=clock[0])  # every active line, this one included, each time
    services.alerts_check(now=clock[0])
    assert reads.count(line) == 4


def test_events_read_lines_and_agents_once_and_see_a_change_at_once(src, hotline_agent):
    from django.test.utils import CaptureQueriesContext

    from kefu.calls.models import Line

    services.cti_event_ingest(source=src, fact=cti("newCall", T0, callId="d1", queue="hotline"))
    with CaptureQueriesContext(connection) as captured:
        services.cti_event_ingest(source=src, fact=cti("newCall", T0, callId="d2", queue="hotline"))
    read = " ".join(q["sql"] for q in captured.captured_queries)
    assert 'FROM "calls_line"' not in read and 'FROM "calls_agentmapping"' not in read
    assert 'FROM "sla_servicehours"' not in read  # the calendar's spec is kept too
    # A new mapping and a new queue name count from the next event, in this process at once.
    AgentMapping.objects.create(ref="8009", user=hotline_agent.user)
    line = Line.objects.unscoped("test").get(number="4009208566")
    line.queues = f"{line.queues},vip-hotline"
    line.save()
    call = services.cti_event_ingest(
        source=src, fact=cti("newCall", T0, callId="d3", queue="vip-hotline", user=["8009"])
    )
    assert call.line_id == line.pk
    assert services.Directory.current().user_for("8009") == hotline_agent.user.pk
