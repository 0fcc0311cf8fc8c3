"""The writers of the calls app: one ingest service for every format, links to orders, alerts.

``facts_ingest`` is the single path from parsed call records to ``Call`` rows.
It is idempotent on ``(source, call_id)`` (a database unique key): merging a
fact keeps the earliest start/queue/answer and the latest end, so the same
event five times, or the events of a call in any order, give the same row.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models.signals import post_delete, post_save
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.calls.codes import CallCode
from kefu.core import audit, outbox, rows
from kefu.core.errors import DomainError, NotFound, ValidationFailed
from kefu.core.links import absolute_url
from kefu.core.ratelimit import hit
from kefu.core.scope import Scope
from kefu.customers.models import ContactPhone
from kefu.customers.phones import try_normalize_phone
from kefu.org.access import Actor
from kefu.sla import services as sla
from kefu.sla.calendar_math import CalendarSpec
from kefu.sla.calendars import SpecCache
from kefu.sla.models import ServiceCalendar

from . import rates
from .models import (
    COUNT_FIELDS,
    AgentMapping,
    Call,
    CallSource,
    CallTicket,
    DayTotal,
    HalfHour,
    IngestRun,
    Line,
    Outcome,
    RateAlert,
    ScreenPop,
    SlotDelta,
)
from .parsers import BadFile, Fact, Parsed, Reject, parse_file

log = logging.getLogger(__name__)
RATE_ALERT_MAIL = "calls.rate_alert"

SYSTEM = "calls ingest: a source's records are written for every province's line they name"
CHUNK = 500
REJECT_LIMIT = 1000
SIGNATURE_WINDOW = timedelta(minutes=5)


class Unauthorized(DomainError):
    status = 401
    default_code = CallCode.UNAUTHORIZED


class RateLimited(DomainError):
    status = 429
    default_code = CallCode.RATE_LIMITED


# -- merging (pure) ---------------------------------------------------------------------------------------


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


HINT_RANK = {"": 0, "ivr": 1, "abandoned": 2, "overflowed": 3, "transferred": 4}


def apply_fact(call: Call, fact: Fact) -> None:
    """Merge one fact into a call's fields (no database). Commutative and idempotent."""
    call.started_at = _earliest(
        _earliest(call.started_at, fact.started_at), _earliest(fact.queued_at, fact.answered_at) or fact.at
    )
    call.queued_at = _earliest(call.queued_at, fact.queued_at)
    call.answered_at = _earliest(call.answered_at, fact.answered_at)
    call.ended_at = _latest(call.ended_at, fact.ended_at)
    if fact.direction == "out":
        call.direction = "out"
    for name, limit in (("queue", 80), ("callee", 80), ("cause", 40)):
        if getattr(fact, name) and not getattr(call, name):
            setattr(call, name, getattr(fact, name)[:limit])
    if fact.caller and not call.caller_raw:
        call.caller_raw = fact.caller[:80]
        call.caller = try_normalize_phone(fact.caller) or ""
    if fact.agent_ref and (fact.answered_at is not None or not call.agent_ref):
        call.agent_ref = fact.agent_ref[:80]
    if HINT_RANK.get(fact.hint, 0) > HINT_RANK.get(call.hint, 0):
        call.hint = fact.hint
    for name in ("hold_seconds", "talk_seconds"):
        value = getattr(fact, name)
        if value is not None:
            setattr(call, name, max(value, getattr(call, name) or 0))
    item = [fact.at.isoformat(), fact.event, fact.cause or fact.agent_ref]
    if item not in call.events:
        call.events = sorted([*call.events, item])
    derive(call)


def derive(call: Call) -> None:
    """Fields that follow from the times: the request, the wait, 20-s flag and the outcome."""
    call.request_at = None
    if call.direction == "in":
        # Answered without a recorded queue entry: the caller asked at arrival.
        call.request_at = call.queued_at or (call.started_at if call.answered_at else None)
    times = rates.CallTimes(
        request_at=call.request_at, answered_at=call.answered_at, inbound=call.direction == "in"
    )
    wait = rates.wait_seconds(times)
    call.answered_in_target = rates.answered_within(times, call.line.answer_seconds if call.line_id else 20)
    if wait is not None:
        call.wait_seconds = int(wait)
    elif call.request_at is not None and call.ended_at is not None:
        call.wait_seconds = int(max(0.0, (call.ended_at - call.request_at).total_seconds()))
    call.outcome = outcome_of(call)


def outcome_of(call: Call) -> str:
    if call.answered_at is not None:
        if call.hint == "transferred":
            return Outcome.TRANSFERRED
        return Outcome.ANSWERED if call.ended_at is not None else Outcome.TALKING
    if call.hint == "overflowed":
        return Outcome.OVERFLOWED
    if call.request_at is not None:
        return Outcome.ABANDONED if call.ended_at is not None else Outcome.QUEUED
    return Outcome.IVR if call.ended_at is not None else Outcome.IN_IVR


# -- lookups used by one ingest -----------------------------------------------------------------------------


@dataclass
class Directory:
    """Lines and agent mappings, read once per ingest."""

    by_queue: dict[str, Line] = field(default_factory=dict)
    by_number: dict[str, Line] = field(default_factory=dict)
    by_code: dict[str, Line] = field(default_factory=dict)
    agents: dict[str, int] = field(default_factory=dict)

    @classmethod
    def current(cls) -> Directory:
        """This process's copy, read at most once every DIRECTORY_SECONDS (every live call event needs
        it); saving or deleting a line, a calendar or an agent mapping drops it at once, and other
        processes see the change within DIRECTORY_SECONDS. The lines in it are shared: read them only."""
        at = time.monotonic()
        kept = _directory
        if kept is not None and at - kept[0] < DIRECTORY_SECONDS:
            return kept[1]
        d = cls.load()
        _directory_keep(at, d)
        return d

    @classmethod
    def load(cls) -> Directory:
        d = cls()
        for line in Line.objects.unscoped(SYSTEM).filter(is_active=True).select_related("calendar"):
            d.by_code[line.code] = line
            d.by_number[line.number] = line
            for q in line.queue_names():
                d.by_queue[q] = line
        d.agents = dict(AgentMapping.objects.values_list("ref", "user_id"))
        return d

    def line_for(self, facts: Sequence[Fact]) -> Line | None:
        for f in facts:
            if f.line_code and f.line_code in self.by_code:
                return self.by_code[f.line_code]
            if f.queue and f.queue in self.by_queue:
                return self.by_queue[f.queue]
        for f in facts:
            number = f.callee if f.direction == "in" else f.caller
            canonical = try_normalize_phone(number) if number else None
            if canonical and canonical in self.by_number:
                return self.by_number[canonical]
            if number in self.by_number:
                return self.by_number[number]
        return None

    def user_for(self, ref: str) -> int | None:
        if not ref:
            return None
        if ref in self.agents:
            return self.agents[ref]
        short = ref.split("/", 1)[-1].split("@", 1)[0]
        return self.agents.get(short)


DIRECTORY_SECONDS = 5.0
_directory: tuple[float, Directory] | None = None


def _directory_keep(at: float, d: Directory) -> None:
    global _directory
    _directory = (at, d)


def directory_clear(**_: Any) -> None:
    """Forget this process's lines and agent mappings (on any change to them; tests call it between tests)."""
    global _directory
    _directory = None


for _model in (Line, AgentMapping, ServiceCalendar):
    post_save.connect(directory_clear, sender=_model, dispatch_uid=f"calls.directory.save.{_model.__name__}")
    post_delete.connect(
        directory_clear, sender=_model, dispatch_uid=f"calls.directory.delete.{_model.__name__}"
    )


# -- the one ingest service ------------------------------------------------------------------------------------


@dataclass
class IngestResult:
    created: int = 0
    updated: int = 0
    rejects: list[Reject] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    pops: list[tuple[int, int, str]] = field(default_factory=list)  # (user id, call id, event)


def facts_ingest(
    *,
    source: CallSource,
    facts: Iterable[Fact],
    line_numbers: Sequence[int] | None = None,
    keep_calls: bool = False,
    pop: bool = False,
) -> IngestResult:
    """Merge facts into calls, chunk by chunk; each chunk is one transaction.

    ``line_numbers`` gives each fact's line number in its file, for the reject report
    of facts naming no known line. ``pop``: notify the named agents' screens (live events).
    """
    facts = list(facts)
    numbers = list(line_numbers) if line_numbers is not None else list(range(1, len(facts) + 1))
    grouped: dict[str, list[tuple[int, Fact]]] = defaultdict(list)
    for n, f in zip(numbers, facts, strict=True):
        grouped[f.call_id].append((n, f))
    directory = Directory.current()
    specs = sla.CachedSpecs()
    result = IngestResult()
    ids = list(grouped)
    for start in range(0, len(ids), CHUNK):
        chunk = {i: grouped[i] for i in ids[start : start + CHUNK]}
        for attempt in range(3):
            try:
                _ingest_chunk(source, chunk, directory, specs, result, keep_calls=keep_calls, pop=pop)
                break
            except (IntegrityError, OperationalError) as exc:
                # Another writer created one of these calls between our read and insert, or two writers
                # met on half-hour rows in opposite orders (PostgreSQL picked us as the deadlock victim):
                # the chunk's savepoint is rolled back; read again.
                if attempt == 2 or (isinstance(exc, OperationalError) and not _is_deadlock(exc)):
                    raise
    return result


def _ingest_chunk(
    source: CallSource,
    chunk: dict[str, list[tuple[int, Fact]]],
    directory: Directory,
    specs: SpecCache,
    result: IngestResult,
    *,
    keep_calls: bool,
    pop: bool,
) -> None:
    rejects: list[Reject] = []
    pending: list[tuple[int, Call, str]] = []
    with transaction.atomic():
        if len(chunk) == 1:  # a live event: its one call read by SQL compiled once, locked the same way
            (only,) = chunk
            found = rows.one(
                Call,
                equal=("source_id", "call_id"),
                values=[source.pk, only],
                related=("line",),
                scope=Scope.everything(),
                lock=True,
            )
            existing = {only: found} if found is not None else {}
        else:
            existing = {
                c.call_id: c
                for c in Call.objects.unscoped(SYSTEM)
                .select_for_update(of=("self",))  # never the joined line: every event shares it
                .filter(source=source, call_id__in=list(chunk))
                .select_related("line")
            }
        deltas: Deltas = {}
        new: list[Call] = []
        changed: list[Call] = []
        for call_id, items in chunk.items():
            items.sort(key=lambda nf: nf[1].at)
            call = existing.get(call_id)
            facts = [f for _n, f in items]
            if call is None:
                line = directory.line_for(facts)
                if line is None:
                    rejects.extend(
                        Reject(
                            n,
                            "无法识别线路：队列名或被叫号码不属于任何话务线路",
                            "unknown line: the queue or called number belongs to no line",
                        )
                        for n, _f in items
                    )
                    continue
                call = Call(
                    source=source, call_id=call_id, line=line, province_id=line.province_id, events=[]
                )
            # The call's row is locked (or new): its old share of the rollups is exactly what it counted.
            _add_share(deltas, call, specs, -1)
            before = _snapshot(call)
            for f in facts:
                apply_fact(call, f)
                user_id = directory.user_for(f.notify_ref) if pop else None
                if user_id is not None:
                    pending.append((user_id, call, f.event))
            call.agent_id = directory.user_for(call.agent_ref)
            call.agent_unknown = bool(call.agent_ref) and call.agent_id is None
            _add_share(deltas, call, specs, +1)
            if call.pk is None:
                new.append(call)
            elif _snapshot(call) != before:
                changed.append(call)
        _match_customers(new)
        if new:
            Call.objects.bulk_create(new)
            if new[0].pk is None:  # backends that do not return ids on bulk insert
                got = dict(
                    Call.objects.unscoped(SYSTEM)
                    .filter(source=source, call_id__in=[c.call_id for c in new])
                    .values_list("call_id", "pk")
                )
                for c in new:
                    c.pk = got[c.call_id]
        if len(changed) == 1:  # a live event: a plain UPDATE (bulk_update's CASE per column cost more)
            one = changed[0]
            Call.objects.unscoped(SYSTEM).filter(pk=one.pk).update(
                **{a: getattr(one, a) for a in _MERGED_COLUMNS}
            )
        elif changed:
            Call.objects.unscoped(SYSTEM).bulk_update(changed, FIELDS_MERGED)
        _write_deltas(deltas)
        pops = [(u, c.pk, e) for u, c, e in pending]
        _record_pops(pops)
    result.created += len(new)
    result.updated += len(changed)
    result.rejects.extend(rejects)
    result.pops.extend(pops)
    if keep_calls:
        result.calls.extend([*new, *changed])


def _is_deadlock(exc: OperationalError) -> bool:
    return getattr(getattr(exc, "__cause__", None), "sqlstate", "") in ("40P01", "40001")


FIELDS_MERGED = [
    "direction",
    "queue",
    "caller_raw",
    "caller",
    "callee",
    "started_at",
    "queued_at",
    "request_at",
    "answered_at",
    "answered_in_target",
    "ended_at",
    "agent",
    "agent_ref",
    "agent_unknown",
    "outcome",
    "hint",
    "cause",
    "wait_seconds",
    "hold_seconds",
    "talk_seconds",
    "events",
]
# The same fields as attributes (the agent by its id): what a merge reads and a one-row UPDATE sets.
_MERGED_COLUMNS = ["agent_id" if f == "agent" else f for f in FIELDS_MERGED]


def _snapshot(call: Call) -> tuple[Any, ...]:
    return tuple(getattr(call, f) for f in _MERGED_COLUMNS[:-1]) + (len(call.events),)


# (line id, slot start) -> [line, day, in hours, counts in COUNT_FIELDS order]
Deltas = dict[tuple[int, datetime], list[Any]]


def share_of(call: Call) -> tuple[int, int, int, int, int, int] | None:
    """What one call counts in its half hour's rollup (COUNT_FIELDS order); None: not a request."""
    if call.direction != "in" or call.request_at is None:
        return None
    answered = call.answered_at is not None
    return (
        1,
        int(answered),
        int(call.answered_in_target),
        int(call.outcome == Outcome.ABANDONED),
        (call.wait_seconds or 0) if answered else 0,
        (call.talk_seconds or 0) if answered else 0,
    )


def _add_share(deltas: Deltas, call: Call, specs: SpecCache, sign: int) -> None:
    share = share_of(call)
    if share is None:
        return
    assert call.request_at is not None
    spec = _spec(call.line, specs)
    slot = rates.slot_of(spec, call.request_at)
    entry = deltas.get((call.line_id, slot))
    if entry is None:
        entry = deltas[(call.line_id, slot)] = [
            call.line,
            slot.astimezone(rates.LOCAL).date(),
            rates.slot_in_hours(spec, slot),
            [0] * len(COUNT_FIELDS),
        ]
    counts = entry[3]
    for i, value in enumerate(share):
        counts[i] += sign * value


def _write_deltas(deltas: Deltas) -> None:
    """Append the chunk's changes: an INSERT of new rows, so concurrent ingests never wait on each other."""
    rows = [
        SlotDelta(
            line_id=line_id,
            province_id=line.province_id,
            slot=slot,
            day=day,
            in_hours=in_hours,
            **dict(zip(COUNT_FIELDS, counts, strict=True)),
        )
        for (line_id, slot), (line, day, in_hours, counts) in sorted(deltas.items(), key=lambda kv: kv[0])
        if any(counts)
    ]
    if rows:
        SlotDelta.objects.bulk_create(rows)


def _spec(line: Line, specs: SpecCache) -> CalendarSpec:
    return specs.get(line.calendar_id)


def _match_customers(calls: list[Call]) -> None:
    """A new call's caller matched to a contact: one in the line's province (any, for the hotline)."""
    numbers = {c.caller for c in calls if c.caller}
    if not numbers:
        return
    found: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    rows = (
        ContactPhone.objects.unscoped("calls: matching callers to contacts of the line's province")
        .filter(number__in=numbers)
        .values_list("number", "contact_id", "contact__customer_id", "contact__customer__province_id")
    )
    for number, contact_id, customer_id, province_id in rows:
        found[number].append((contact_id, customer_id, province_id))
    for call in calls:
        options = [
            o for o in found.get(call.caller, []) if call.province_id is None or o[2] == call.province_id
        ]
        if len({o[1] for o in options}) == 1:
            call.contact_id, call.customer_id = options[0][0], options[0][1]


FOLD_BATCH = 20_000


def rollups_fold(*, batch: int = FOLD_BATCH) -> int:
    """Move committed ``SlotDelta`` rows into ``HalfHour`` and ``DayTotal``; returns the deltas folded.

    Each batch is one transaction: the deltas it read are deleted and their sums added to the
    rollups with ``INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n``, so a reader that adds
    the remaining deltas to the rollups sees every call exactly once, before and after. The rows
    are taken with SKIP LOCKED (PostgreSQL): two folds at once take disjoint deltas. Ingests are
    never blocked: they only insert deltas.
    """
    total = 0
    while True:
        with transaction.atomic():
            picked = list(
                SlotDelta.objects.unscoped(SYSTEM)
                .select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", "line_id", "province_id", "slot", "day", "in_hours", *COUNT_FIELDS)[:batch]
            )
            if not picked:
                return total
            slots: dict[tuple[Any, ...], list[int]] = {}
            days: dict[tuple[Any, ...], list[int]] = {}
            for _pk, line_id, province_id, slot, day, in_hours, *counts in picked:
                for key, into in (
                    ((line_id, slot, province_id, day, in_hours), slots),
                    ((line_id, day, in_hours, province_id), days),
                ):
                    sums = into.setdefault(key, [0] * len(COUNT_FIELDS))
                    for i, value in enumerate(counts):
                        sums[i] += value
            _upsert(HalfHour, ("line_id", "slot", "province_id", "day", "in_hours"), 2, slots)
            _upsert(DayTotal, ("line_id", "day", "in_hours", "province_id"), 3, days)
            SlotDelta.objects.unscoped(SYSTEM).filter(pk__in=[row[0] for row in picked]).delete()
            total += len(picked)
        if len(picked) < batch:
            return total


def _upsert(model: Any, keys: tuple[str, ...], unique: int, rows: dict[tuple[Any, ...], list[int]]) -> None:
    """Add ``rows`` to the rollup table (the first ``unique`` keys are its unique key), in key order."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [*keys, *COUNT_FIELDS]
    conflict = ", ".join(keys[:unique])
    increments = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COUNT_FIELDS)
    # Identifiers from the model's own meta, values as parameters: nothing from input is spliced.
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) ON CONFLICT ({conflict}) DO UPDATE SET {increments}"  # noqa: S608, E501
    fields = [model._meta.get_field(c.removesuffix("_id")) for c in keys]
    params = [
        [*(f.get_db_prep_save(v, connection) for f, v in zip(fields, key, strict=True)), *counts]
        for key, counts in sorted(rows.items(), key=lambda kv: kv[0][:unique])
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _record_pops(pops: list[tuple[int, int, str]]) -> None:
    if not pops:
        return
    ScreenPop.objects.bulk_create(
        [ScreenPop(user_id=u, call_id=c, event=e) for u, c, e in pops], ignore_conflicts=True
    )
    for user_id, call_id, event in set(pops):
        transaction.on_commit(_pusher(user_id, call_id, event))


def _pusher(user_id: int, call_id: int, event: str) -> Callable[[], None]:
    return lambda: _push_pop(user_id, call_id, event)


def _push_pop(user_id: int, call_id: int, event: str) -> None:
    """Tell the agent's open pages over the socket layer; the page also polls, so a failure only slows it."""
    try:
        from kefu.realtime import publish
    except ImportError:  # the socket layer is optional: the polling fallback still delivers
        return
    try:
        publish(f"user.{user_id}", "calls.pop", {"call": call_id, "event": event}, ephemeral=True)
    except Exception:  # noqa: BLE001 - a push failure must never undo a recorded call
        log.exception("screen pop push failed")


# -- the webhook ---------------------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature a source sends: hex HMAC-SHA256 of ``timestamp + "." + body`` under its secret."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _unauthorized() -> Unauthorized:
    return Unauthorized(
        "签名或令牌无效，或时间戳超出 ±5 分钟。",
        "Bad signature or token, or the timestamp is outside ±5 minutes.",
    )


def authenticate(*, source_code: str, headers: dict[str, str], body: bytes, now: datetime) -> CallSource:
    """The source a request comes from, or 401 (the same for an unknown source and a bad signature)."""
    # Compiled once (kefu.core.rows): every live event starts here.
    source = rows.one(CallSource, equal=("code", "is_active"), values=[source_code, True])
    if source is None:
        raise _unauthorized()
    if source.auth == CallSource.Auth.TOKEN:
        token = headers.get("x-kefu-token", "")
        if (
            not token
            or not source.token_hash
            or not hmac.compare_digest(token_hash(token), source.token_hash)
        ):
            raise _unauthorized()
        return source
    stamp = headers.get("x-kefu-timestamp", "")
    signature = headers.get("x-kefu-signature", "").removeprefix("sha256=")
    if not stamp.isdigit() or not signature or not source.secret:
        raise _unauthorized()
    sent = datetime.fromtimestamp(int(stamp), tz=now.tzinfo)
    if abs(now - sent) > SIGNATURE_WINDOW:
        raise _unauthorized()
    if not hmac.compare_digest(sign(source.secret, stamp, body), signature):
        raise _unauthorized()
    return source


def check_rate(source: CallSource, now: datetime) -> None:
    """At most ``max_events_per_minute`` per source and minute (counted in the cache: every app server's
    events together with ``KEFU_CACHE_URL``)."""
    if not hit("calls", str(source.pk), limit=source.max_events_per_minute, window_s=60, now=now.timestamp()):
        raise RateLimited(
            "该来源的事件过多，请稍后再发。",
            "Too many events from this source; retry later.",
            details={"limit_per_minute": source.max_events_per_minute},
        )


def cti_event_ingest(*, source: CallSource, fact: Fact) -> Call:
    """One live CTI event: merged, audited on the call, screens popped after commit."""
    with transaction.atomic():
        result = facts_ingest(source=source, facts=[fact], keep_calls=True, pop=True)
        if result.rejects:
            r = result.rejects[0]
            raise ValidationFailed(r.reason, r.reason_en, code=CallCode.UNKNOWN_LINE)
        # The call as merged (none when the event changed nothing: a repeat, read back then).
        call = result.calls[0] if result.calls else None
        if call is None:
            call = (
                Call.objects.unscoped(SYSTEM)
                .filter(source=source, call_id=fact.call_id)
                .select_related("line")
                .get()
            )
        audit.record(
            actor=None,
            verb="call.event",
            target=call,
            data={"event": fact.event, "source": source.code},
            province_code=call.province.code if call.province is not None else "",
        )
        now = timezone.now()
        # The rolling hour is read at most once per line every ALERT_CHECK_EVERY_S (a peak hour is
        # thousands of calls: reading them on each of their events was most of an event's cost); the
        # 5-minute job checks every line anyway. Counted in the cache: once for every app server with
        # KEFU_CACHE_URL, and checked on every event while that cache is unreachable.
        if hit(
            "calls-alert-check", str(call.line_id), limit=1, window_s=ALERT_CHECK_EVERY_S, now=now.timestamp()
        ):
            _check_alert(call.line, now)
    return call


# -- files ---------------------------------------------------------------------------------------------------


def file_ingest(
    *, actor: Actor | None, source: CallSource, fmt: str, filename: str, data: bytes
) -> IngestRun:
    """A queue_log, Master.csv or spreadsheet: every good line merged, every bad one reported by number.

    A file that cannot be read at all (encoding, header) stores nothing and is refused with 422.
    The same file twice changes no call (idempotent merge) and is marked ``repeated``.
    """
    if fmt not in IngestRun.Format.values:
        raise ValidationFailed("未知的文件格式。", "Unknown file format.", fields=[{"field": "format"}])
    digest = hashlib.sha256(data).hexdigest()
    try:
        parsed: Parsed = parse_file(fmt, data, filename)
    except BadFile as exc:
        raise ValidationFailed(exc.reason, exc.reason_en, code=CallCode.BAD_FILE) from None
    repeated = IngestRun.objects.filter(source=source, sha256=digest).exists()
    numbers = _line_numbers(parsed)
    result = facts_ingest(source=source, facts=parsed.facts, line_numbers=numbers)
    rollups_fold()
    rejects = sorted([*parsed.rejects, *result.rejects], key=lambda r: r.line)
    with transaction.atomic():
        run = IngestRun.objects.create(
            source=source,
            format=fmt,
            filename=filename[:200],
            sha256=digest,
            encoding=parsed.encoding,
            actor=actor.user if actor is not None else None,
            lines_total=parsed.lines,
            lines_rejected=len(rejects),
            calls_created=result.created,
            calls_updated=result.updated,
            repeated=repeated,
            rejects=[r.as_dict() for r in rejects[:REJECT_LIMIT]],
        )
        audit.record(
            actor=actor.user if actor else None,
            verb="calls.file_ingested",
            target=run,
            data={
                "format": fmt,
                "lines": parsed.lines,
                "rejected": len(rejects),
                "created": result.created,
                "updated": result.updated,
                "repeated": repeated,
            },
        )
    return run


def _line_numbers(parsed: Parsed) -> list[int]:
    # Parsers keep facts in file order without their numbers; rejects carry theirs. Rebuild the
    # numbering: good facts fill the line numbers no reject took (approximate when lines were skipped).
    rejected = {r.line for r in parsed.rejects}
    numbers: list[int] = []
    n = 0
    while len(numbers) < len(parsed.facts):
        n += 1
        if n not in rejected:
            numbers.append(n)
    return numbers


# -- call → work order ---------------------------------------------------------------------------------------


def call_link_ticket(*, actor: Actor, call: Call, ticket: Any) -> CallTicket:
    """Link an order to a call the actor can see (the order must be in the same scope)."""
    if not actor.scope.covers(call.province_id) or not actor.scope.covers(ticket.province_id):
        raise NotFound()
    with transaction.atomic():
        link, made = call.ticket_links.get_or_create(ticket=ticket, defaults={"created_by": actor.user})
        if made:
            audit.record(
                actor=actor.user,
                verb="call.ticket_linked",
                target=call,
                data={"ticket": ticket.number},
                province_code=call.province.code if call.province is not None else "",
            )
    return link


def call_create_ticket(
    *,
    actor: Actor,
    call: Call,
    kind: str,
    subject: str,
    description: str = "",
    customer: Any,
    contact: Any = None,
    category: Any = None,
) -> Any:
    """One click from a call: an order prefilled with the caller, linked to the call, in one transaction."""
    from kefu.tickets import services as tickets

    with transaction.atomic():
        created = tickets.ticket_create(
            actor=actor,
            kind=kind,
            customer=customer,
            contact=contact,
            subject=subject,
            description=description,
            category=category,
            caller_phone=call.caller or call.caller_raw[:16],
        )
        call_link_ticket(actor=actor, call=call, ticket=created.ticket)
    return created.ticket


# -- alerts ----------------------------------------------------------------------------------------------------


def rolling_hour(line: Line, now: datetime) -> rates.Tally:
    """Requests of the last 60 minutes of a line inside its calendar."""
    spec = sla.calendar_spec(line.calendar_id)
    rows = (
        Call.objects.unscoped(SYSTEM)
        .filter(line=line, direction="in", request_at__gte=now - timedelta(hours=1), request_at__lt=now)
        .values_list("request_at", "answered_at", "outcome", "talk_seconds")
    )
    # A caller still waiting who asked less than the limit ago may yet be answered in time: not decided.
    undecided = now - timedelta(seconds=line.answer_seconds)
    calls = [
        rates.CallTimes(request_at=r, answered_at=a, abandoned=o == Outcome.ABANDONED, talk_seconds=t or 0)
        for r, a, o, t in rows
        if a is not None or o != Outcome.QUEUED or r < undecided
    ]
    return rates.breakdown(spec, calls, line.answer_seconds).inside


ALERT_MIN_REQUESTS = 10
ALERT_CHECK_EVERY_S = 30


def _check_alert(line: Line, now: datetime) -> None:
    """Raise a RateAlert when the rolling hour is under target; at most one per line per half-hour mark."""
    mark = now.replace(second=0, microsecond=0, minute=0 if now.minute < 30 else 30)
    if RateAlert.objects.unscoped(SYSTEM).filter(line=line, window_end=mark).exists():
        return
    tally = rolling_hour(line, now)
    if (
        tally.offered < ALERT_MIN_REQUESTS
        or rates.meets_target(tally, float(line.target_percent)) is not False
    ):
        return
    # Two events of the same line may find the rate low at once: one alert per mark, the other no-op.
    try:
        with transaction.atomic():
            alert = RateAlert.objects.create(
                line=line,
                province_id=line.province_id,
                window_end=mark,
                offered=tally.offered,
                answered_in_target=tally.answered_in_target,
            )
    except IntegrityError:
        return
    audit.record(
        actor=None,
        verb="calls.rate_alert",
        target=alert,
        data={"line": line.code, "offered": tally.offered, "in_target": tally.answered_in_target},
    )
    _mail_alert(alert.pk)


def alerts_check(*, now: datetime) -> int:
    """The periodic check for every active line (calls may stop arriving when the queue is worst)."""
    made = 0
    for line in Line.objects.unscoped(SYSTEM).filter(is_active=True).select_related("calendar"):
        before = RateAlert.objects.unscoped(SYSTEM).filter(line=line).count()
        with transaction.atomic():
            _check_alert(line, now)
        made += RateAlert.objects.unscoped(SYSTEM).filter(line=line).count() - before
    return made


def _mail_alert(alert_id: int) -> None:
    """Mail the line's team and HQ service dept (team mailboxes) through the outbox, in the alert's transaction."""
    from kefu.org.models import Team

    alert = RateAlert.objects.unscoped(SYSTEM).select_related("line__team").get(pk=alert_id)
    to = [
        e
        for e in (
            alert.line.team.email,
            *Team.objects.filter(kind=Team.Kind.HQ_SERVICE).values_list("email", flat=True),
        )
        if e
    ]
    if not to:
        return
    subject = f"[新视通] {alert.line.name} 近一小时 20 秒接通率 {alert.percent:.1f}% 低于目标 {alert.line.target_percent}%"
    outbox.enqueue(
        purpose=RATE_ALERT_MAIL,
        key=str(alert.pk),
        to=to,
        subject=subject,
        body=f"{subject}\n\n查看接通率：{absolute_url(reverse('calls:rates'))}\n",
        ref=f"calls.ratealert:{alert.pk}",
    )


outbox.register(RATE_ALERT_MAIL, _("接通率告警邮件"))
