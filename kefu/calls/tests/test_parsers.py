"""Parsers against samples written from the published layouts (Asterisk queue_log, cdr_csv, Zammad CTI)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kefu.calls import parsers
from kefu.calls.parsers import BadFile, BadLine

SAMPLES = Path(__file__).parent / "samples"
T0 = datetime.fromtimestamp(1764723600, UTC)


def test_queue_log_sample():
    parsed = parsers.parse_queue_log((SAMPLES / "queue_log").read_text())
    assert parsed.lines == 12
    assert parsed.skipped == 2  # RINGNOANSWER, PAUSE
    assert [(r.line, r.reason_en.split(":")[0]) for r in parsed.rejects] == [
        (10, "too few fields"),
        (11, "bad timestamp"),
        (12, "unknown queue event 'FROBNICATE'"),
    ]
    first = [f for f in parsed.facts if f.call_id == "1764723600.101"]
    assert [f.event for f in first] == ["queued", "answered", "ended"]
    assert first[0].caller == "13800138000" and first[0].queued_at == T0
    assert first[1].agent_ref == "SIP/8001" and first[1].wait_seconds == 12
    assert first[1].answered_at == T0 + timedelta(seconds=12)
    assert first[2].talk_seconds == 180 and first[2].answered_at == T0 + timedelta(seconds=12)
    abandon = next(f for f in parsed.facts if f.event == "abandoned")
    assert abandon.hint == "abandoned" and abandon.wait_seconds == 45
    overflow = next(f for f in parsed.facts if f.event == "overflowed")
    assert overflow.hint == "overflowed" and overflow.cause == "exitwithtimeout"


def test_cdr_csv_sample():
    parsed = parsers.parse_cdr_csv((SAMPLES / "Master.csv").read_text())
    assert [(r.line, r.reason_en.split(":")[0]) for r in parsed.rejects] == [
        (4, "bad start date/time"),
        (5, "expected 16 to 19 columns (cdr_csv or cdr_custom Master.csv), got 3"),
    ]
    answered, abandoned, ivr = parsed.facts
    assert answered.call_id == "1764723600.11" and answered.queue == "hotline"
    assert answered.agent_ref == "SIP/8001" and answered.talk_seconds == 300 and answered.wait_seconds == 15
    assert answered.queued_at == datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # 09:00 Beijing
    assert answered.answered_at == datetime(2026, 12, 3, 1, 0, 15, tzinfo=UTC)
    assert abandoned.hint == "abandoned" and abandoned.answered_at is None and abandoned.queued_at is not None
    assert ivr.hint == "ivr" and ivr.queued_at is None  # Playback, never queued


def test_cti_events():
    now = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    new = parsers.parse_cti(
        {
            "event": "newCall",
            "from": "13800138000",
            "to": "4009208566",
            "direction": "in",
            "callId": "abc",
            "user[]": ["8001"],
            "queue": "hotline",
        },
        received_at=now,
    )
    assert (new.event, new.queued_at, new.notify_ref) == ("new", now, "8001")
    ivr = parsers.parse_cti({"event": "newCall", "from": "1", "to": "2", "callId": "x"}, received_at=now)
    assert ivr.queued_at is None and ivr.started_at == now
    ans = parsers.parse_cti(
        {"event": "answer", "callId": "abc", "answeringNumber": "8001", "timestamp": "1764723612"},
        received_at=now,
    )
    assert ans.answered_at == T0 + timedelta(seconds=12) and ans.agent_ref == "8001"
    hang = parsers.parse_cti({"event": "hangup", "callId": "abc", "cause": "forwarded"}, received_at=now)
    assert hang.ended_at == now and hang.hint == "transferred"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"event": "ring", "callId": "a"}, "unknown event"),
        ({"event": "newCall"}, "missing call id"),
        ({"event": "newCall", "callId": "a", "direction": "sideways"}, "direction must be in or out"),
        ({"event": "hangup", "callId": "a", "cause": "meteor"}, "unknown hangup cause"),
        ({"event": "newCall", "callId": "x" * 251}, "field callId is too long"),
        ({"event": "newCall", "callId": "a", "from": {"n": 1}}, "field from has a bad type"),
    ],
)
def test_cti_bad_events(payload, reason):
    with pytest.raises(BadLine) as exc:
        parsers.parse_cti(payload, received_at=datetime(2026, 12, 3, tzinfo=UTC))
    assert reason in exc.value.reason_en
    assert exc.value.reason  # a Chinese reason too


SHEET = (
    "呼叫标识,线路,主叫号码,进入队列时间,接通时间,结束时间,坐席工号,结果,通话秒数\n"
    "S1,hotline,13800138000,2026-12-03 09:00:00,2026-12-03 09:00:18,2026-12-03 09:05:00,8001,接通,282\n"
    "S2,hotline,13900139000,2026-12-03 09:01:00,,2026-12-03 09:01:40,,放弃,\n"
    "S3,hotline,13900139000,2026-12-03 09:01:00,2026-12-03 09:00:00,2026-12-03 09:01:40,,接通,\n"
    "S4,hotline,13900139000,昨天,,2026-12-03 09:01:40,,放弃,\n"
    ",hotline,13900139000,2026-12-03 09:01:00,,2026-12-03 09:01:40,,放弃,\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_sheet_in_utf8_or_gbk(encoding):
    parsed = parsers.parse_sheet(SHEET.encode(encoding), "calls.csv")
    assert parsed.encoding == ("gbk" if encoding == "gbk" else "utf-8")
    assert [f.call_id for f in parsed.facts] == ["S1", "S2"]
    assert [(r.line, r.reason_en) for r in parsed.rejects] == [
        (4, "answered before entering the queue"),
        (5, "bad queued date/time: '昨天'"),
        (6, "missing required value: call_id"),
    ]
    s1 = parsed.facts[0]
    assert s1.agent_ref == "8001" and s1.talk_seconds == 282 and s1.line_code == "hotline"


def test_sheet_xlsx():
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in SHEET.splitlines():
        sheet.append(row.split(","))
    import io

    buf = io.BytesIO()
    book.save(buf)
    parsed = parsers.parse_sheet(buf.getvalue(), "calls.xlsx")
    assert [f.call_id for f in parsed.facts] == ["S1", "S2"] and len(parsed.rejects) == 3


def test_bad_files():
    with pytest.raises(BadFile) as exc:
        parsers.parse_sheet(b"x,y\n1,2\n", "calls.csv")
    assert "call_id" in exc.value.reason_en
    with pytest.raises(BadFile):
        parsers.parse_sheet(b"\xff\xfe\x00\x00garbage\x00", "calls.csv")
    with pytest.raises(BadFile):
        parsers.parse_sheet(b"not a zip", "calls.xlsx")
