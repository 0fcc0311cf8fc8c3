"""Parsers of call records: pure functions from bytes or a payload to ``Fact`` values, no database.

Each format becomes the same ``Fact`` (one thing learnt about one call at one
instant); ``kefu.calls.services.facts_ingest`` merges facts into calls. A line
that cannot be read becomes a ``Reject`` with its 1-based number and a reason
in Chinese and English; the other lines go on.

Formats:

* Zammad generic CTI events (``newCall`` / ``answer`` / ``hangup``) with its
  field names: ``event, from, to, direction, callId, user[], queue, cause,
  answeringNumber``; our addition: an optional ``timestamp`` (epoch seconds or
  ISO 8601) for when it happened.
* Asterisk ``queue_log``: ``epoch|callid|queuename|agent|event|data1|data2|…``
  (the epoch may be a ``YYYY-MM-DD HH:MM:SS[.ffffff]`` Beijing time when a
  realtime queue_log table is exported). ENTERQUEUE url|callerid|position;
  CONNECT holdtime|bridgedchanneluniqueid|ringtime; COMPLETEAGENT /
  COMPLETECALLER holdtime|calltime|origposition; ABANDON position|origposition|
  waittime; EXITWITHTIMEOUT / EXITEMPTY position|origposition|waittime;
  EXITWITHKEY key|position[|origposition|waittime]; WITHDRAW position|
  origposition|waittime|info; JOINEMPTY; TRANSFER / BLINDTRANSFER extension|
  context|holdtime|calltime|origposition; ATTENDEDTRANSFER BRIDGE|uid / APP|app
  / LINK|chan|chan then holdtime|calltime|origposition; DID number. Member,
  agent and system events (ADDMEMBER, REMOVEMEMBER, PAUSE*, UNPAUSE*, PENALTY,
  AGENT*LOGIN/LOGOFF, RINGNOANSWER, RINGCANCELED, AGENTDUMP, CONFIGRELOAD,
  QUEUESTART, SYSCOMPAT, INFO) are skipped, not rejected; any other event (a
  dialplan's own QueueLog() name) is a reject with its line number.
* Asterisk cdr_csv ``Master.csv``: ``accountcode, src, dst, dcontext, clid,
  channel, dstchannel, lastapp, lastdata, start, answer, end, duration,
  billsec, disposition, amaflags`` and, with loguniqueid/loguserfield,
  ``uniqueid, userfield`` (17 columns: whichever of the two the 17th looks
  like); cdr_custom's sample mapping (19 columns: ``clid, src, dst, dcontext,
  channel, dstchannel, lastapp, lastdata, start, answer, end, duration,
  billsec, disposition, amaflags, accountcode, uniqueid, userfield,
  sequence``); or any of these with a header row naming the columns. Times
  are ``YYYY-MM-DD HH:MM:SS`` in the PBX's zone, or epoch seconds.
* A spreadsheet (CSV or .xlsx) with the header row of ``SHEET_COLUMNS``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

MAX_CALL_ID = 250
PBX_ZONE = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Fact:
    """One thing learnt about one call. Instants are aware (UTC)."""

    call_id: str
    at: datetime
    event: str  # code for the call's timeline: new, queued, answered, ended, abandoned, ...
    direction: str = "in"
    caller: str = ""
    callee: str = ""
    queue: str = ""
    agent_ref: str = ""
    started_at: datetime | None = None
    queued_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    hint: str = ""  # abandoned / ivr / transferred / overflowed
    cause: str = ""
    wait_seconds: int | None = None
    hold_seconds: int | None = None
    talk_seconds: int | None = None
    line_code: str = ""
    notify_ref: str = ""  # the agent whose screen should show the call (ringing or answering)


@dataclass(frozen=True)
class Reject:
    line: int
    reason: str
    reason_en: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason, "reason_en": self.reason_en}


@dataclass
class Parsed:
    facts: list[Fact] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    lines: int = 0
    skipped: int = 0
    encoding: str = ""


class BadLine(ValueError):
    def __init__(self, reason: str, reason_en: str) -> None:
        super().__init__(reason_en)
        self.reason = reason
        self.reason_en = reason_en


class BadFile(ValueError):
    """The whole file cannot be read (encoding, no header): nothing of it is stored."""

    def __init__(self, reason: str, reason_en: str) -> None:
        super().__init__(reason_en)
        self.reason = reason
        self.reason_en = reason_en


# -- shared helpers ----------------------------------------------------------------------------------


def _epoch(text: str) -> datetime:
    try:
        value = float(text)
    except ValueError:
        raise BadLine(f"时间戳无效：{text[:30]!r}", f"bad timestamp: {text[:30]!r}") from None
    if not 946684800 <= value <= 4102444800:  # 2000-01-01 .. 2100-01-01
        raise BadLine(f"时间戳超出范围：{text[:30]!r}", f"timestamp out of range: {text[:30]!r}")
    return datetime.fromtimestamp(value, UTC)


def _local_time(text: str, zone: ZoneInfo, what: str) -> datetime:
    text = text.strip()
    if text.replace(".", "", 1).isdigit() and len(text) >= 9:
        return _epoch(text)  # cdr_custom's ${CDR(start,u)}: epoch seconds
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=zone).astimezone(UTC)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadLine(
            f"{what}日期时间无效：{text[:30]!r}", f"bad {what_en(what)} date/time: {text[:30]!r}"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


_WHAT_EN = {"开始": "start", "接通": "answer", "结束": "end", "进入队列": "queued", "": ""}


def what_en(what: str) -> str:
    return _WHAT_EN.get(what, what)


def _seconds(text: str, what: str, what_en_: str) -> int:
    text = text.strip()
    if not text:
        return 0
    try:
        value = int(float(text))
    except ValueError:
        raise BadLine(
            f"{what}不是秒数：{text[:20]!r}", f"{what_en_} is not a number of seconds: {text[:20]!r}"
        ) from None
    if value < 0 or value > 7 * 86400:
        raise BadLine(f"{what}超出范围：{value}", f"{what_en_} out of range: {value}")
    return value


def _call_id(text: str) -> str:
    text = text.strip()
    if not text or text.upper() in ("NONE", "REALTIME"):
        raise BadLine("缺少呼叫标识", "missing call id")
    if len(text) > MAX_CALL_ID:
        raise BadLine("呼叫标识过长", "call id too long")
    return text


def decode(data: bytes) -> tuple[str, str]:
    """Text and encoding name: UTF-8 (with or without BOM), else GBK (GB18030); anything else is refused."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise BadFile(
            "文件编码无法识别：请使用 UTF-8 或 GBK。", "Unrecognised file encoding: use UTF-8 or GBK."
        ) from None
    if "\x00" in text:
        raise BadFile(
            "文件编码无法识别：请使用 UTF-8 或 GBK。", "Unrecognised file encoding: use UTF-8 or GBK."
        )
    return text, "gbk"


# -- Zammad generic CTI -------------------------------------------------------------------------------

CTI_EVENTS = ("newCall", "answer", "hangup")
CTI_CAUSES = ("normalClearing", "busy", "cancel", "noAnswer", "congestion", "notFound", "forwarded")


def parse_cti(payload: Mapping[str, Any], *, received_at: datetime) -> Fact:
    """One CTI event (a JSON object, or form fields with ``user[]`` lists flattened) as a fact."""

    def text(name: str, limit: int = 80) -> str:
        value = payload.get(name, "")
        if isinstance(value, list):
            value = value[0] if value else ""
        if value is None:
            value = ""
        if not isinstance(value, str | int):
            raise BadLine(f"字段 {name} 类型无效", f"field {name} has a bad type")
        value = str(value).strip()
        if len(value) > limit:
            raise BadLine(f"字段 {name} 过长", f"field {name} is too long")
        return value

    event = text("event")
    if event not in CTI_EVENTS:
        raise BadLine(
            f"未知事件：{event[:20]!r}（应为 newCall、answer 或 hangup）",
            f"unknown event {event[:20]!r} (expected newCall, answer or hangup)",
        )
    call_id = _call_id(text("callId", MAX_CALL_ID))
    direction = text("direction") or "in"
    if direction not in ("in", "out"):
        raise BadLine("direction 应为 in 或 out", "direction must be in or out")
    at = received_at
    stamp = text("timestamp", 40)
    if stamp:
        at = _epoch(stamp) if stamp.replace(".", "", 1).isdigit() else _local_time(stamp, PBX_ZONE, "")
    user = payload.get("user") or payload.get("user[]") or ""
    if isinstance(user, list):
        user = user[0] if user else ""
    base = Fact(
        call_id=call_id,
        at=at,
        event=event,
        direction=direction,
        caller=text("from"),
        callee=text("to"),
        queue=text("queue"),
    )
    if event == "newCall":
        return replace(
            base,
            event="new",
            started_at=at,
            queued_at=at if base.queue else None,
            notify_ref=str(user).strip()[:80],
        )
    if event == "answer":
        agent = text("answeringNumber") or str(user).strip()[:80]
        return replace(base, event="answered", answered_at=at, agent_ref=agent, notify_ref=agent)
    cause = text("cause", 40)
    if cause and cause not in CTI_CAUSES:
        raise BadLine(f"未知挂断原因：{cause[:20]!r}", f"unknown hangup cause {cause[:20]!r}")
    hint = "transferred" if cause == "forwarded" else ""
    return replace(
        base, event="ended", ended_at=at, cause=cause, hint=hint, agent_ref=text("answeringNumber")
    )


# -- Asterisk queue_log ---------------------------------------------------------------------------------

QUEUE_LOG_SKIPPED = frozenset(
    {
        # queue members and agents, not callers
        "ADDMEMBER",
        "REMOVEMEMBER",
        "PAUSE",
        "UNPAUSE",
        "PAUSEALL",
        "UNPAUSEALL",
        "PENALTY",
        "AGENTLOGIN",
        "AGENTLOGOFF",
        "AGENTCALLBACKLOGIN",
        "AGENTCALLBACKLOGOFF",
        # a member's phone rang and was not taken / stopped ringing: the caller is still waiting
        "RINGNOANSWER",
        "RINGCANCELED",
        # the system and the dialplan's own notes
        "CONFIGRELOAD",
        "QUEUESTART",
        "SYSCOMPAT",
        "INFO",
        "AGENTDUMP",  # the agent hung up during the announcement; COMPLETE*/ABANDON follows
    }
)


def _agent_of(member: str) -> str:
    member = member.strip()
    return "" if member.upper() == "NONE" else member


def queue_log_line(line: str) -> Fact | None:
    """One queue_log line as a fact; None for housekeeping events; BadLine for a broken line."""
    parts = line.rstrip("\r\n").split("|")
    if len(parts) < 5:
        raise BadLine(
            f"字段不足：应至少 5 个以“|”分隔的字段，实为 {len(parts)} 个",
            f"too few fields: expected at least 5 separated by '|', got {len(parts)}",
        )
    stamp, call_id, queue, member, event, *data = parts
    event = event.strip().upper()
    if event in QUEUE_LOG_SKIPPED:
        return None
    stamp = stamp.strip()
    # epoch seconds as the file writes them; a realtime queue_log table exports a date-time instead
    dated = len(stamp) >= 10 and stamp[4] == "-" and stamp[7] == "-"
    at = _local_time(stamp, PBX_ZONE, "") if dated else _epoch(stamp)
    call_id = _call_id(call_id)
    queue = "" if queue.strip().upper() == "NONE" else queue.strip()
    data += [""] * (6 - len(data))
    agent = _agent_of(member)
    base = Fact(call_id=call_id, at=at, event=event.lower(), queue=queue)
    if event == "ENTERQUEUE":
        # url|callerid|position (position since Asterisk 12)
        return replace(base, event="queued", queued_at=at, started_at=at, caller=data[1].strip())
    if event == "CONNECT":
        wait = _seconds(data[0], "等待时长", "holdtime")
        return replace(
            base,
            event="answered",
            answered_at=at,
            agent_ref=agent,
            wait_seconds=wait,
            queued_at=at - timedelta(seconds=wait),
        )
    if event in ("COMPLETEAGENT", "COMPLETECALLER"):
        wait = _seconds(data[0], "等待时长", "holdtime")
        talk = _seconds(data[1], "通话时长", "calltime")
        return replace(
            base,
            event="ended",
            ended_at=at,
            agent_ref=agent,
            talk_seconds=talk,
            answered_at=at - timedelta(seconds=talk),
            queued_at=at - timedelta(seconds=talk + wait),
            wait_seconds=wait,
            cause="agent" if event == "COMPLETEAGENT" else "caller",
        )
    if event in ("TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"):
        # TRANSFER / BLINDTRANSFER extension|context|holdtime|calltime|origposition;
        # ATTENDEDTRANSFER BRIDGE|uniqueid|… or APP|app|… or LINK|chan1|chan2|… then holdtime|calltime|origposition.
        # The times are the last three fields whatever came before them.
        filled = [d for d in data if d.strip() != ""]
        if len(filled) < 3:
            raise BadLine(f"{event} 缺少等待/通话时长字段", f"{event} lacks its holdtime/calltime fields")
        wait = _seconds(filled[-3], "等待时长", "holdtime")
        talk = _seconds(filled[-2], "通话时长", "calltime")
        return replace(
            base,
            event="transferred",
            ended_at=at,
            agent_ref=agent,
            hint="transferred",
            talk_seconds=talk,
            wait_seconds=wait,
            answered_at=at - timedelta(seconds=talk),
            queued_at=at - timedelta(seconds=talk + wait),
            cause=event.lower(),
        )
    if event == "DID":
        # DID|number: logged by the dialplan before the queue, names the number the caller dialled
        return replace(base, event="did", callee=data[0].strip(), started_at=at)
    if event == "ABANDON":
        wait = _seconds(data[2], "等待时长", "waittime")
        return replace(
            base,
            event="abandoned",
            ended_at=at,
            hint="abandoned",
            wait_seconds=wait,
            queued_at=at - timedelta(seconds=wait),
        )
    if event in ("EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY", "WITHDRAW"):
        # The caller left the queue unanswered for another destination: an overflow.
        # EXITWITHTIMEOUT / EXITEMPTY position|origposition|waittime; EXITWITHKEY key|position
        # (|origposition|waittime since Asterisk 13); WITHDRAW position|origposition|waittime|info.
        index = 3 if event == "EXITWITHKEY" else 2
        left: int | None = _seconds(data[index], "等待时长", "waittime") if data[index].strip() else None
        return replace(
            base,
            event="overflowed",
            ended_at=at,
            hint="overflowed",
            wait_seconds=left,
            queued_at=at - timedelta(seconds=left) if left is not None else None,
            cause=event.lower(),
        )
    if event == "JOINEMPTY":
        return replace(
            base,
            event="overflowed",
            queued_at=at,
            started_at=at,
            ended_at=at,
            hint="overflowed",
            cause="joinempty",
        )
    raise BadLine(f"未知的队列事件：{event[:30]!r}", f"unknown queue event {event[:30]!r}")


def parse_queue_log(text: str) -> Parsed:
    result = Parsed()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        result.lines += 1
        try:
            fact = queue_log_line(line)
        except BadLine as exc:
            result.rejects.append(Reject(number, exc.reason, exc.reason_en))
            continue
        if fact is None:
            result.skipped += 1
        else:
            result.facts.append(fact)
    return result


# -- Asterisk cdr_csv Master.csv -------------------------------------------------------------------------

CDR_COLUMNS = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "uniqueid",
    "userfield",
)
CDR_DISPOSITIONS = ("ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION")


def _extension(channel: str) -> str:
    """``SIP/8001-0000001a`` -> ``SIP/8001``: the agent's device without the channel's sequence number."""
    channel = channel.strip()
    if "-" in channel and "/" in channel:
        channel = channel.rsplit("-", 1)[0]
    return channel


# cdr_custom's sample mapping (cdr_custom.conf, "Master.csv => ${CSV_QUOTE(${CDR(clid)})},…"): clid first,
# accountcode moved after amaflags, then uniqueid, userfield and the CDR's sequence number.
CDR_CUSTOM_COLUMNS = (
    "clid",
    "src",
    "dst",
    "dcontext",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "accountcode",
    "uniqueid",
    "userfield",
    "sequence",
)
CDR_KNOWN = frozenset(CDR_CUSTOM_COLUMNS) | {"linkedid", "peeraccount", "calldate"}
CDR_NEEDED = (
    "src",
    "dst",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
)


def _looks_like_uniqueid(text: str) -> bool:
    """Asterisk's uniqueid: ``<epoch>.<sequence>`` (optionally ``<system name>-`` before it)."""
    tail = text.strip().rsplit("-", 1)[-1]
    head, _dot, seq = tail.partition(".")
    return head.isdigit() and seq.isdigit()


def cdr_columns(row: list[str], header: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The layout of one Master.csv row: the file's own header, or cdr_csv's / cdr_custom's by shape."""
    if header is not None:
        return header
    n = len(row)
    if n == 19:
        return CDR_CUSTOM_COLUMNS
    if n == 17 and not _looks_like_uniqueid(row[16]):
        # cdr_csv with loguserfield but not loguniqueid: the 17th column is the userfield
        return (*CDR_COLUMNS[:16], "userfield")
    if n in (16, 17, 18):
        return CDR_COLUMNS[:n]
    raise BadLine(
        f"列数应为 16 至 19（cdr_csv 或 cdr_custom 的 Master.csv），实为 {n}",
        f"expected 16 to 19 columns (cdr_csv or cdr_custom Master.csv), got {n}",
    )


def cdr_row(row: list[str], zone: ZoneInfo = PBX_ZONE, header: tuple[str, ...] | None = None) -> Fact:
    columns = cdr_columns(row, header)
    if header is not None and len(row) != len(header):
        raise BadLine(
            f"列数与表头不符：表头 {len(header)} 列，此行 {len(row)} 列",
            f"column count differs from the header: {len(header)} expected, got {len(row)}",
        )
    values = dict(zip(columns, row, strict=False))
    for name in CDR_NEEDED:
        values.setdefault(name, "")
    call_id = _call_id(values.get("uniqueid") or f"{values['channel']}@{values['start']}")
    start = _local_time(values["start"], zone, "开始")
    end = _local_time(values["end"], zone, "结束")
    answer = _local_time(values["answer"], zone, "接通") if values["answer"].strip() else None
    disposition = values["disposition"].strip().upper()
    if disposition not in CDR_DISPOSITIONS:
        raise BadLine(f"未知的处理结果：{disposition[:20]!r}", f"unknown disposition {disposition[:20]!r}")
    if end < start:
        raise BadLine("结束时间早于开始时间", "end is before start")
    duration = _seconds(values["duration"], "时长", "duration")
    billsec = _seconds(values["billsec"], "计费时长", "billsec")
    in_queue = values["lastapp"].strip().lower() == "queue"
    queue = values["lastdata"].split(",")[0].strip() if in_queue else ""
    agent_answered = disposition == "ANSWERED" and bool(values["dstchannel"].strip()) and answer is not None
    fact = Fact(
        call_id=call_id,
        at=end,
        event="cdr",
        caller=values["src"].strip(),
        callee=values["dst"].strip(),
        queue=queue,
        started_at=start,
        ended_at=end,
        talk_seconds=billsec if agent_answered else 0,
        cause=disposition.lower(),
    )
    if in_queue:
        # A CDR knows only the whole call: the queue entry is taken as its start.
        fact = replace(fact, queued_at=start)
    if agent_answered:
        assert answer is not None
        return replace(
            fact,
            answered_at=answer,
            agent_ref=_extension(values["dstchannel"]),
            wait_seconds=max(0, duration - billsec) if in_queue else None,
        )
    return replace(fact, hint="abandoned" if in_queue else "ivr")


def parse_cdr_csv(text: str, zone: ZoneInfo = PBX_ZONE) -> Parsed:
    result = Parsed()
    reader = csv.reader(io.StringIO(text))
    header: tuple[str, ...] | None = None
    for row in reader:
        if not row or not any(cell.strip() for cell in row):
            continue
        result.lines += 1
        number = reader.line_num  # the physical line where the record ends (quoted fields may span lines)
        names = tuple(cell.strip().lower() for cell in row)
        if result.lines == 1 and {"src", "dst", "start"} <= set(names) and set(names) <= CDR_KNOWN | {""}:
            header = names  # a header some exports add: the columns are taken by name
            result.skipped += 1
            continue
        try:
            result.facts.append(cdr_row(row, zone, header))
        except BadLine as exc:
            result.rejects.append(Reject(number, exc.reason, exc.reason_en))
    return result


# -- spreadsheets ---------------------------------------------------------------------------------------

# header (Chinese as exported by the switches we know, or the English key) -> field
SHEET_COLUMNS: dict[str, str] = {
    "呼叫标识": "call_id",
    "call_id": "call_id",
    "线路": "line",
    "line": "line",
    "主叫号码": "caller",
    "caller": "caller",
    "被叫号码": "callee",
    "callee": "callee",
    "队列": "queue",
    "queue": "queue",
    "进入队列时间": "queued_at",
    "queued_at": "queued_at",
    "接通时间": "answered_at",
    "answered_at": "answered_at",
    "结束时间": "ended_at",
    "ended_at": "ended_at",
    "坐席工号": "agent",
    "agent": "agent",
    "结果": "outcome",
    "outcome": "outcome",
    "保持秒数": "hold_seconds",
    "hold_seconds": "hold_seconds",
    "通话秒数": "talk_seconds",
    "talk_seconds": "talk_seconds",
}
SHEET_REQUIRED = ("call_id", "queued_at", "ended_at")
SHEET_OUTCOMES = {
    "接通": "",
    "answered": "",
    "放弃": "abandoned",
    "abandoned": "abandoned",
    "语音导航": "ivr",
    "ivr": "ivr",
    "转接": "transferred",
    "transferred": "transferred",
    "溢出": "overflowed",
    "overflowed": "overflowed",
}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def sheet_row(values: dict[str, str], zone: ZoneInfo = PBX_ZONE) -> Fact:
    for name in SHEET_REQUIRED:
        if not values.get(name):
            raise BadLine(f"缺少必填列的值：{name}", f"missing required value: {name}")
    call_id = _call_id(values["call_id"])
    ended = _local_time(values["ended_at"], zone, "结束")
    queued = _local_time(values["queued_at"], zone, "进入队列") if values.get("queued_at") else None
    answered = _local_time(values["answered_at"], zone, "接通") if values.get("answered_at") else None
    outcome = values.get("outcome", "")
    if outcome not in SHEET_OUTCOMES:
        raise BadLine(f"未知的结果：{outcome[:20]!r}", f"unknown outcome {outcome[:20]!r}")
    hint = SHEET_OUTCOMES[outcome]
    if hint == "ivr":
        queued = None
    if queued and answered and answered < queued:
        raise BadLine("接通时间早于进入队列时间", "answered before entering the queue")
    if ended < (answered or queued or ended):
        raise BadLine("结束时间早于接通或进入队列时间", "end is before the answer or the queue entry")
    return Fact(
        call_id=call_id,
        at=ended,
        event="sheet",
        caller=values.get("caller", ""),
        callee=values.get("callee", ""),
        queue=values.get("queue", ""),
        line_code=values.get("line", ""),
        started_at=queued or ended,
        queued_at=queued,
        answered_at=answered,
        ended_at=ended,
        agent_ref=values.get("agent", "") if answered else "",
        hint=hint,
        hold_seconds=_seconds(values.get("hold_seconds", ""), "保持秒数", "hold_seconds"),
        talk_seconds=_seconds(values.get("talk_seconds", ""), "通话秒数", "talk_seconds"),
    )


def _rows_from_xlsx(data: bytes) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable workbook is the same refusal
        raise BadFile("无法读取 Excel 文件。", "The Excel file cannot be read.") from None
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(values_only=True):
        yield list(row)


def parse_sheet(data: bytes, filename: str, zone: ZoneInfo = PBX_ZONE) -> Parsed:
    result = Parsed()
    if filename.lower().endswith(".xlsx"):
        rows: Iterator[list[Any]] = _rows_from_xlsx(data)
        result.encoding = "xlsx"
    else:
        text, result.encoding = decode(data)
        rows = iter(csv.reader(io.StringIO(text)))
    header = next(rows, None)
    if header is None:
        raise BadFile("文件为空。", "The file is empty.")
    columns = [SHEET_COLUMNS.get(_cell(h).lower() if _cell(h).isascii() else _cell(h), "") for h in header]
    missing = [name for name in SHEET_REQUIRED if name not in columns]
    if missing:
        raise BadFile(
            f"表头缺少列：{'、'.join(missing)}（见 docs/calls.md 的表格格式）",
            f"header lacks columns: {', '.join(missing)} (see the layout in docs/calls.md)",
        )
    for number, row in enumerate(rows, start=2):
        cells = [_cell(v) for v in row]
        if not any(cells):
            continue
        result.lines += 1
        values = {name: cells[i] if i < len(cells) else "" for i, name in enumerate(columns) if name}
        try:
            result.facts.append(sheet_row(values, zone))
        except BadLine as exc:
            result.rejects.append(Reject(number, exc.reason, exc.reason_en))
    return result


def parse_file(fmt: str, data: bytes, filename: str) -> Parsed:
    """Dispatch on the declared format (``queue_log``, ``cdr_csv``, ``sheet``)."""
    if fmt == "sheet":
        return parse_sheet(data, filename)
    text, encoding = decode(data)
    parsed = parse_queue_log(text) if fmt == "queue_log" else parse_cdr_csv(text)
    parsed.encoding = encoding
    return parsed
