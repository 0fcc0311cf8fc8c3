"""Every queue_log event type and the Master.csv layouts Asterisk writes (cdr_csv 16/17/18 columns, cdr_custom).

Samples written from the published layouts (docs.asterisk.org "Queue Logs", app_queue's ast_queue_log
calls, cdr_csv's column order, cdr_custom.conf's sample mapping). No database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kefu.calls.parsers import parse_cdr_csv, parse_queue_log

T = 1764723600  # 2025-12-03 01:00:00 UTC = 09:00 Beijing
AT = datetime.fromtimestamp(T, UTC)

QUEUE_LOG = f"""\
{T}|NONE|NONE|NONE|QUEUESTART|
{T}|NONE|NONE|NONE|CONFIGRELOAD|
{T}|NONE|hotline|SIP/8001|ADDMEMBER|
{T}|NONE|hotline|SIP/8001|PAUSE|lunch
{T}|NONE|hotline|SIP/8001|UNPAUSE|
{T}|NONE|NONE|SIP/8001|PAUSEALL|
{T}|NONE|NONE|SIP/8001|UNPAUSEALL|
{T}|NONE|hotline|SIP/8001|PENALTY|2
{T}|NONE|NONE|Agent/8001|AGENTLOGIN|SIP/8001-0001
{T}|NONE|NONE|Agent/8001|AGENTLOGOFF|SIP/8001-0001|3600
{T}|NONE|NONE|Agent/8001|AGENTCALLBACKLOGIN|8001@agents
{T}|NONE|NONE|Agent/8001|AGENTCALLBACKLOGOFF|8001@agents|60|Autologoff
{T}|NONE|hotline|SIP/8001|REMOVEMEMBER|
{T}|a1|hotline|NONE|DID|4009208566
{T}|a1|hotline|NONE|INFO|note
{T}|a1|hotline|NONE|ENTERQUEUE||13800138000|1
{T + 5}|a1|hotline|SIP/8002|RINGNOANSWER|5000
{T + 6}|a1|hotline|SIP/8003|RINGCANCELED|900
{T + 8}|a1|hotline|SIP/8001|CONNECT|8|a1x|2
{T + 200}|a1|hotline|SIP/8001|BLINDTRANSFER|9001|from-internal|8|192|1
{T}|a2|hotline|NONE|ENTERQUEUE||13800138001|1
{T + 15}|a2|hotline|SIP/8001|CONNECT|15|a2x|3
{T + 115}|a2|hotline|SIP/8001|ATTENDEDTRANSFER|BRIDGE|bridge-uid|15|100|1
{T}|a3|hotline|NONE|ENTERQUEUE||13800138002|1
{T + 25}|a3|hotline|SIP/8001|CONNECT|25|a3x|1
{T + 85}|a3|hotline|SIP/8001|ATTENDEDTRANSFER|LINK|Local/a@x-1;1|Local/a@x-1;2|25|60|1
{T}|a4|hotline|NONE|ENTERQUEUE||13800138003|1
{T + 12}|a4|hotline|NONE|EXITWITHKEY|5|1|1|12
{T}|a5|hotline|NONE|ENTERQUEUE||13800138004|1
{T + 3}|a5|hotline|NONE|EXITWITHKEY|0|1
{T}|a6|hotline|NONE|ENTERQUEUE||13800138005|1
{T + 300}|a6|hotline|NONE|EXITWITHTIMEOUT|1|1|300
{T}|a7|hotline|NONE|ENTERQUEUE||13800138006|1
{T + 1}|a7|hotline|NONE|EXITEMPTY|1|1|1
{T}|a8|hotline|NONE|JOINEMPTY|1|||
{T}|a9|hotline|NONE|ENTERQUEUE||13800138007|1
{T + 40}|a9|hotline|NONE|WITHDRAW|1|1|40|callback
{T}|b1|hotline|NONE|ENTERQUEUE||13800138008|1
{T + 2}|b1|hotline|SIP/8001|AGENTDUMP|
{T + 9}|b1|hotline|NONE|ABANDON|1|1|9
{T}|b2|hotline|NONE|ENTERQUEUE||13800138009|1
{T + 4}|b2|hotline|SIP/8001|CONNECT|4|b2x|1
{T + 64}|b2|hotline|SIP/8001|COMPLETEAGENT|4|60|1
{T}|b3|hotline|NONE|ENTERQUEUE||13800138010|1
{T + 20}|b3|hotline|SIP/8001|CONNECT|20|b3x|1
{T + 50}|b3|hotline|SIP/8001|COMPLETECALLER|20|30|1
{T}|b4|hotline|NONE|ENTERQUEUE||13800138011|1
{T + 70}|b4|hotline|SIP/8001|TRANSFER|9002|from-internal|20|50|1
{T}|NONE|NONE|NONE|SYSCOMPAT|
{T}|c1|hotline|NONE|MYCUSTOMEVENT|x
2025-12-03 09:00:00.123456|c2|hotline|NONE|ENTERQUEUE||13800138012|1
notanumber|c3|hotline|NONE|ENTERQUEUE||1|1
"""


def facts_by_call(parsed):
    out: dict[str, list] = {}
    for f in parsed.facts:
        out.setdefault(f.call_id, []).append(f)
    return out


def test_every_queue_log_event_type_is_read_or_skipped_and_unknown_lines_are_reported_by_number():
    parsed = parse_queue_log(QUEUE_LOG)
    lines = QUEUE_LOG.splitlines()
    assert parsed.lines == len(lines)
    # the unknown custom event and the bad timestamp, by their line numbers; nothing else refused
    assert [r.line for r in parsed.rejects] == [len(lines) - 2, len(lines)]
    assert "MYCUSTOMEVENT" in parsed.rejects[0].reason_en
    by = facts_by_call(parsed)
    # member / agent / system events are skipped, never mistaken for calls
    assert "NONE" not in by
    blind = by["a1"][-1]
    assert (blind.event, blind.hint, blind.talk_seconds, blind.wait_seconds) == (
        "transferred",
        "transferred",
        192,
        8,
    )
    assert blind.answered_at == AT + timedelta(seconds=8) and blind.queued_at == AT
    assert by["a1"][0].event == "did" and by["a1"][0].callee == "4009208566"
    assert by["a2"][-1].talk_seconds == 100 and by["a2"][-1].wait_seconds == 15
    assert by["a3"][-1].talk_seconds == 60 and by["a3"][-1].wait_seconds == 25  # LINK has two channels
    assert (by["a4"][-1].hint, by["a4"][-1].wait_seconds) == ("overflowed", 12)
    assert (by["a5"][-1].hint, by["a5"][-1].wait_seconds) == ("overflowed", None)  # old 2-field layout
    assert by["a6"][-1].cause == "exitwithtimeout" and by["a6"][-1].wait_seconds == 300
    assert by["a7"][-1].cause == "exitempty"
    assert by["a8"][-1].cause == "joinempty"
    assert (by["a9"][-1].cause, by["a9"][-1].wait_seconds) == ("withdraw", 40)
    assert [f.event for f in by["b1"]] == ["queued", "abandoned"]  # AGENTDUMP skipped
    assert by["b2"][-1].cause == "agent" and by["b3"][-1].cause == "caller"
    assert by["b4"][-1].talk_seconds == 50
    # a realtime queue_log exported with a date-time (Beijing) instead of the epoch
    assert by["c2"][0].queued_at == AT + timedelta(microseconds=123456)


CDR_18 = (
    '"","13800138000","4009208566","from-pstn","""王经理"" <13800138000>","SIP/trunk-00000001",'
    '"SIP/8001-00000002","Queue","hotline,t,,,300","2025-12-03 09:00:00","2025-12-03 09:00:15",'
    '"2025-12-03 09:03:15",195,180,"ANSWERED","DOCUMENTATION","1764723600.1","vip, 重要"\n'
)
CDR_16 = (
    '"","13800138001","4009208566","from-pstn","""13800138001"" <13800138001>","SIP/trunk-00000003","",'
    '"Queue","hotline","2025-12-03 09:01:00","","2025-12-03 09:01:40",40,0,"NO ANSWER","DOCUMENTATION"\n'
)
CDR_17_USERFIELD = (
    '"acct","13800138002","4009208566","from-pstn","","SIP/trunk-00000004","","Playback","welcome",'
    '"2025-12-03 09:02:00","2025-12-03 09:02:01","2025-12-03 09:02:30",30,29,"ANSWERED","BILLING","a note"\n'
)
CDR_CUSTOM = (
    '"""李工"" <13800138003>","13800138003","4009208566","from-pstn","SIP/trunk-00000005","SIP/8002-00000006",'
    '"Queue","hotline","2025-12-03 09:04:00","2025-12-03 09:04:25","2025-12-03 09:06:25","145","120",'
    '"ANSWERED","DOCUMENTATION","","1764723840.7","",42\n'
)
# a quoted field holding a line break: the record's number is where it ends
CDR_MULTILINE = (
    '"","13800138004","4009208566","from-pstn","""A\nB"" <13800138004>","SIP/trunk-00000007","",'
    '"Hangup","","2025-12-03 09:05:00","","2025-12-03 09:05:05",5,0,"FAILED","DOCUMENTATION"\n'
)


def test_master_csv_layouts_cdr_csv_16_17_18_columns_and_cdr_custom():
    parsed = parse_cdr_csv(CDR_18 + CDR_16 + CDR_17_USERFIELD + CDR_CUSTOM + CDR_MULTILINE + "1,2,3\n")
    assert [r.line for r in parsed.rejects] == [7]  # the short row, numbered after the two-line record
    by = {f.call_id: f for f in parsed.facts}
    answered = by["1764723600.1"]
    assert (answered.agent_ref, answered.talk_seconds, answered.wait_seconds) == ("SIP/8001", 180, 15)
    assert answered.queue == "hotline" and answered.caller == "13800138000"
    unanswered = next(f for f in parsed.facts if f.caller == "13800138001")
    assert unanswered.hint == "abandoned" and unanswered.answered_at is None
    ivr = next(f for f in parsed.facts if f.caller == "13800138002")
    assert ivr.hint == "ivr" and ivr.call_id != "a note"  # the 17th column was the userfield
    custom = by["1764723840.7"]
    assert (custom.agent_ref, custom.talk_seconds, custom.wait_seconds) == ("SIP/8002", 120, 25)
    assert next(f for f in parsed.facts if f.caller == "13800138004").cause == "failed"


def test_master_csv_with_a_header_row_is_read_by_column_name():
    text = (
        "start,end,answer,src,dst,channel,dstchannel,lastapp,lastdata,duration,billsec,disposition,uniqueid\n"
        "2025-12-03 09:00:00,2025-12-03 09:02:00,2025-12-03 09:00:10,13800138000,4009208566,"
        "SIP/trunk-1,SIP/8001-2,Queue,hotline,120,110,ANSWERED,u-1.5\n"
        "2025-12-03 09:00:00,2025-12-03 09:02:00\n"
    )
    parsed = parse_cdr_csv(text)
    assert parsed.skipped == 1 and [r.line for r in parsed.rejects] == [3]
    (fact,) = parsed.facts
    assert (fact.call_id, fact.wait_seconds, fact.talk_seconds) == ("u-1.5", 10, 110)
