"""The sweep: warnings, breaches and expiry handlers for every clock whose moment has come.

Exactly once, whatever happens:

* state lives only in the clock rows (``warned_at``, ``breached_at``,
  ``next_check_at``); nothing is kept in memory between runs;
* each batch is one transaction that locks its rows with
  ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so a second sweep running
  at the same time takes other rows or none, and re-checks the condition on
  rows the first one committed meanwhile; on SQLite the IMMEDIATE write
  transaction serialises sweeps;
* a sweep killed half-way loses only its open batch, which rolls back and is
  found again by the next run;
* an expiry with a handler (the auto-accept) runs after its batch, in its own
  transaction, after locking the clock again and re-checking it; a failing
  handler rolls back only its own clock, which stays due and is retried.

The cost follows the due clocks: rows are found through the partial index on
``next_check_at``, and a batch without handlers is written with a handful of
bulk statements.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from kefu.core import audit
from kefu.core.models import JobHeartbeat

from . import registry
from .models import Clock, Notice

log = logging.getLogger(__name__)

JOB_NAME = "sla.sweep"
_WHY = "the SLA sweep acts on every province's clocks"


@dataclass
class SweepResult:
    warned: int = 0
    breached: int = 0
    handled: int = 0
    failed: int = 0
    batches: int = 0
    failures: list[str] = field(default_factory=list)
    failed_ids: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "warned": self.warned,
            "breached": self.breached,
            "handled": self.handled,
            "failed": self.failed,
            "batches": self.batches,
        }


def _entry(
    clock_id: int,
    owner_type: str,
    owner_id: Any,
    kind: str,
    team_id: int | None,
    due_at: datetime | None,
    province_code: str | None,
    verb: str,
) -> audit.Entry:
    """The event ``kefu.core.audit`` writes for a clock outcome (target ``sla.clock``, system actor)."""
    return audit.Entry(
        verb=verb,
        target_type="sla.clock",
        target_id=str(clock_id),
        province_code=province_code or "",
        data={
            "owner_type": owner_type,
            "owner_id": owner_id,
            "kind": kind,
            "team": team_id,
            "due_at": due_at.isoformat() if due_at else None,
        },
    )


def _notice(clock: Clock, kind: str, now: datetime) -> Notice:
    assert clock.due_at is not None
    return Notice(
        clock=clock,
        kind=kind,
        team_id=clock.team_id,
        province_id=clock.province_id,
        owner_type=clock.owner_type,
        owner_id=clock.owner_id,
        clock_kind=clock.kind,
        due_at=clock.due_at,
        created_at=now,
    )


@dataclass(frozen=True)
class _Due:
    pk: int
    owner_type: str
    kind: str
    due_at: datetime | None
    warn_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None

    def owes(self, now: datetime) -> tuple[bool, bool]:
        """(warn, breach) owed at ``now``; a breach makes a pending warning moot."""
        breach = self.breached_at is None and self.due_at is not None and self.due_at <= now
        warn = not breach and self.warned_at is None and self.warn_at is not None and self.warn_at <= now
        return warn, breach


def _due_batch(now: datetime, size: int, skip: set[int]) -> list[_Due]:
    rows = (
        Clock.objects.unscoped(_WHY)
        .filter(next_check_at__lte=now, status=Clock.Status.RUNNING)
        .exclude(pk__in=skip)
        .order_by("next_check_at")
        .select_for_update(skip_locked=True)
        .values_list("pk", "owner_type", "kind", "due_at", "warn_at", "warned_at", "breached_at")[:size]
    )
    return [_Due(*row) for row in rows]


def _ids_sql(ids: list[int]) -> tuple[str, list[Any]]:
    if connection.vendor == "postgresql":
        return "= ANY(%s)", [ids]
    return f"IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _write_outcomes(ids: list[int], verb: str, notice_kind: str, now: datetime) -> None:
    """One audit event (through the one audit writer, one INSERT) and one notice per clock.

    Three statements for the whole batch instead of a round trip per row: this is
    what keeps a sweep of a thousand outcomes well under the 200 ms aim.
    """
    if not ids:
        return
    rows = (
        Clock.objects.unscoped(_WHY)
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "owner_type", "owner_id", "kind", "team_id", "due_at", "province__code")
    )
    audit.record_many(
        [_entry(pk, ot, oid, kind, team, due, prov, verb) for pk, ot, oid, kind, team, due, prov in rows],
        at=now,
    )
    where, params = _ids_sql(ids)
    notice_table = Notice._meta.db_table
    # Only table names, fixed SQL and placeholders are interpolated; every value is a parameter.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {notice_table} (clock_id, kind, team_id, province_id, owner_type, owner_id, clock_kind, "  # noqa: S608
            f"due_at, created_at) SELECT c.id, %s, c.team_id, c.province_id, c.owner_type, c.owner_id, c.kind, "
            f"c.due_at, %s FROM {Clock._meta.db_table} c WHERE c.id {where} ORDER BY c.id",
            [notice_kind, now, *params],
        )


def _process_batch(rows: list[_Due], now: datetime, result: SweepResult) -> list[int]:
    """Warnings and plain breaches of a locked batch; returns the clocks whose expiry needs a handler."""
    warned_ids: list[int] = []
    breached_ids: list[int] = []
    with_handler: list[int] = []
    stale: list[_Due] = []
    for row in rows:
        warn, breach = row.owes(now)
        if breach and registry.expired_handler(row.owner_type, row.kind) is not None:
            with_handler.append(row.pk)
        elif warn:
            warned_ids.append(row.pk)
        elif breach:
            breached_ids.append(row.pk)
        else:
            stale.append(row)
    qs = Clock.objects.unscoped(_WHY)
    if warned_ids:
        # The warning is done; the next check is the deadline itself.
        qs.filter(pk__in=warned_ids).update(warned_at=now, next_check_at=F("due_at"))
        _write_outcomes(warned_ids, "sla.clock.warned", Notice.Kind.WARNING, now)
    if breached_ids:
        qs.filter(pk__in=breached_ids).update(
            breached_at=now, warned_at=Coalesce("warned_at", Value(now)), next_check_at=None
        )
        _write_outcomes(breached_ids, "sla.clock.breached", Notice.Kind.BREACH, now)
    for row in stale:
        # A row whose check time is behind but owes nothing (edited by hand): put it right.
        pending = [
            t
            for t in (None if row.warned_at else row.warn_at, None if row.breached_at else row.due_at)
            if t is not None and t > now
        ]
        qs.filter(pk=row.pk).update(next_check_at=min(pending) if pending else None)
    result.warned += len(warned_ids)
    result.breached += len(breached_ids)
    return with_handler


def _expire_with_handler(pk: int, now: datetime, result: SweepResult) -> None:
    """One expiry with its handler, in its own transaction.

    Not inside the batch: a handler takes the owner's locks (the work order),
    and holding a thousand clock locks meanwhile would stall the agents working
    on those orders. The clock is locked again and its condition re-checked, so
    a concurrent sweep that got there first makes this a no-op.
    """
    try:
        with transaction.atomic():
            _relax_commit()
            clock = (
                Clock.objects.unscoped(_WHY)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("province")
                .filter(pk=pk, status=Clock.Status.RUNNING, breached_at__isnull=True, due_at__lte=now)
                .first()
            )
            handler = registry.expired_handler(clock.owner_type, clock.kind) if clock is not None else None
            if clock is None or handler is None:
                return
            Clock.objects.unscoped(_WHY).filter(pk=clock.pk).update(
                breached_at=now, warned_at=clock.warned_at or now, next_check_at=None
            )
            clock.breached_at = now
            clock.warned_at = clock.warned_at or now
            clock.next_check_at = None
            audit.record_many(
                [
                    _entry(
                        clock.pk,
                        clock.owner_type,
                        clock.owner_id,
                        clock.kind,
                        clock.team_id,
                        clock.due_at,
                        clock.province.code if clock.province else "",
                        "sla.clock.expired",
                    )
                ],
                at=now,
            )
            Notice.objects.bulk_create([_notice(clock, Notice.Kind.BREACH, now)])
            handler(clock.owner_id, clock, now)
            _durable_if_announced()
    except Exception as exc:  # noqa: BLE001 - one bad owner must not stop the others
        log.exception("SLA expiry handler failed for clock %s", pk)
        result.failed += 1
        result.failures.append(f"{pk}: {exc!r}")
        result.failed_ids.add(pk)
        return
    result.breached += 1
    result.handled += 1


def sweep(
    *, now: datetime | None = None, batch_size: int = 1000, max_batches: int | None = None
) -> SweepResult:
    """Run every outcome due at ``now`` (default: the current time), batch by batch, and beat the heartbeat."""
    now = now or timezone.now()
    started = timezone.now()
    JobHeartbeat.objects.update_or_create(name=JOB_NAME, defaults={"last_started_at": started})
    result = sweep_once(now=now, batch_size=batch_size, max_batches=max_batches)
    JobHeartbeat.objects.update_or_create(
        name=JOB_NAME,
        defaults={
            "last_success_at": timezone.now(),
            "last_summary": result.as_dict(),
            "last_error": "\n".join(result.failures[:20]),
            "expected_every_seconds": 60,
        },
    )
    return result


def _relax_commit() -> None:
    """Do not wait for the WAL flush when committing a batch (PostgreSQL).

    Why no deadline outcome can be lost: ``synchronous_commit = off`` risks only
    the transactions of the last ~0.6 s (3 × ``wal_writer_delay``) and only if
    the PostgreSQL server itself crashes (a killed sweep loses nothing it
    committed). Such a batch is lost whole, and so is everything that read it
    and wrote afterwards (the WAL is replayed in order: any later synchronous
    commit, an agent's or the heartbeat this sweep writes at its end, flushes
    it first). Each outcome is a pure function of a durable deadline
    (``due_at <= now``, written synchronously when the clock started), so the
    next sweep finds those clocks still due and decides them again, the same
    way. What a lost batch can change is only *when* its events say it ran, as
    with a sweep that runs late. The one thing a redo cannot take back is a
    message already sent: see ``_durable_if_announced``.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _durable_if_announced() -> None:
    """A handler that registered ``on_commit`` side effects (mail, pushes) gets a synchronous commit.

    Those effects run as soon as the commit returns; with an asynchronous commit
    a crash could then undo the outcome they announce, and the redo would
    announce it a second time.
    """
    if connection.vendor == "postgresql" and connection.run_on_commit:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = on")


def sweep_once(*, now: datetime, batch_size: int = 1000, max_batches: int | None = None) -> SweepResult:
    """The work of one sweep without the heartbeat (benchmarks and tests call this)."""
    result = SweepResult()
    while max_batches is None or result.batches < max_batches:
        with transaction.atomic():
            _relax_commit()
            clocks = _due_batch(now, batch_size, result.failed_ids)
            if not clocks:
                break
            needs_handler = _process_batch(clocks, now, result)
        for pk in needs_handler:
            _expire_with_handler(pk, now, result)
        result.batches += 1
        if len(clocks) < batch_size:
            break
    return result
