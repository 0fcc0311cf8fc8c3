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
  found again by the next run; a failing expiry handler rolls back only its own
  clock (savepoint), which stays due and is retried.

The cost follows the due clocks: rows are found through the partial index on
``next_check_at``, and a batch without handlers is written with a handful of
bulk statements.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kefu.core.models import AuditEvent, JobHeartbeat

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
        return {"warned": self.warned, "breached": self.breached, "handled": self.handled,
                "failed": self.failed, "batches": self.batches}


def _event(clock: Clock, verb: str, now: datetime, **data: Any) -> AuditEvent:
    # The same row ``kefu.core.audit.record`` writes, built here so that a
    # batch of outcomes goes to the database in one INSERT.
    return AuditEvent(
        at=now, actor=None, actor_label="系统", verb=verb, target_type="sla.clock", target_id=str(clock.pk),
        province_code=clock.province.code if clock.province else "",
        data={"owner_type": clock.owner_type, "owner_id": clock.owner_id, "kind": clock.kind,
              "team": clock.team_id, "due_at": clock.due_at.isoformat() if clock.due_at else None, **data},
    )


def _notice(clock: Clock, kind: str, now: datetime) -> Notice:
    assert clock.due_at is not None
    return Notice(clock=clock, kind=kind, team_id=clock.team_id, province_id=clock.province_id,
                  owner_type=clock.owner_type, owner_id=clock.owner_id, clock_kind=clock.kind,
                  due_at=clock.due_at, created_at=now)


def _due_batch(now: datetime, size: int, skip: set[int]) -> list[Clock]:
    ids = list(
        Clock.objects.unscoped(_WHY)
        .filter(next_check_at__lte=now, status=Clock.Status.RUNNING)
        .exclude(pk__in=skip)
        .order_by("next_check_at")
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)[:size]
    )
    if not ids:
        return []
    # Already locked by this transaction; fetch the columns the outcomes need.
    return list(Clock.objects.unscoped(_WHY).filter(pk__in=ids).select_related("province").order_by("next_check_at"))


def _outcome_rows(clock: Clock, now: datetime) -> tuple[bool, bool]:
    """(warn, breach) owed by this clock at ``now``."""
    breach = clock.breached_at is None and clock.due_at is not None and clock.due_at <= now
    warn = (not breach and clock.warned_at is None and clock.warn_at is not None and clock.warn_at <= now)
    return warn, breach


def _process_batch(clocks: list[Clock], now: datetime, result: SweepResult) -> None:
    events: list[AuditEvent] = []
    notices: list[Notice] = []
    warned_ids: list[int] = []
    breached_ids: list[int] = []
    with_handler: list[Clock] = []
    stale: list[Clock] = []
    for clock in clocks:
        warn, breach = _outcome_rows(clock, now)
        if breach and registry.expired_handler(clock.owner_type, clock.kind) is not None:
            with_handler.append(clock)
            continue
        if warn:
            warned_ids.append(clock.pk)
            events.append(_event(clock, "sla.clock.warned", now))
            notices.append(_notice(clock, Notice.Kind.WARNING, now))
        elif breach:
            breached_ids.append(clock.pk)
            events.append(_event(clock, "sla.clock.breached", now))
            notices.append(_notice(clock, Notice.Kind.BREACH, now))
        else:
            stale.append(clock)
    qs = Clock.objects.unscoped(_WHY)
    if warned_ids:
        # The warning is done; the next check is the deadline itself.
        qs.filter(pk__in=warned_ids).update(warned_at=now, next_check_at=F("due_at"))
    if breached_ids:
        qs.filter(pk__in=breached_ids).update(breached_at=now, warned_at=now, next_check_at=None)
    for clock in stale:
        # A row whose check time is behind but owes nothing (edited by hand): put it right.
        pending = [t for t in (None if clock.warned_at else clock.warn_at,
                               None if clock.breached_at else clock.due_at) if t is not None and t > now]
        qs.filter(pk=clock.pk).update(next_check_at=min(pending) if pending else None)
    AuditEvent.objects.bulk_create(events)
    Notice.objects.bulk_create(notices)
    result.warned += len(warned_ids)
    result.breached += len(breached_ids)
    for clock in with_handler:
        _expire_with_handler(clock, now, result)


def _expire_with_handler(clock: Clock, now: datetime, result: SweepResult) -> None:
    handler = registry.expired_handler(clock.owner_type, clock.kind)
    assert handler is not None
    try:
        with transaction.atomic():
            Clock.objects.unscoped(_WHY).filter(pk=clock.pk).update(
                breached_at=now, warned_at=clock.warned_at or now, next_check_at=None)
            clock.breached_at = now
            clock.warned_at = clock.warned_at or now
            clock.next_check_at = None
            AuditEvent.objects.bulk_create([_event(clock, "sla.clock.expired", now)])
            Notice.objects.bulk_create([_notice(clock, Notice.Kind.BREACH, now)])
            handler(clock.owner_id, clock, now)
    except Exception as exc:  # noqa: BLE001 - one bad owner must not stop the others
        log.exception("SLA expiry handler failed for clock %s", clock.pk)
        result.failed += 1
        result.failures.append(f"{clock.pk}: {exc!r}")
        result.failed_ids.add(clock.pk)
        return
    result.breached += 1
    result.handled += 1


def sweep(*, now: datetime | None = None, batch_size: int = 500, max_batches: int | None = None) -> SweepResult:
    """Run every outcome due at ``now`` (default: the current time), batch by batch, and beat the heartbeat."""
    now = now or timezone.now()
    started = timezone.now()
    JobHeartbeat.objects.update_or_create(name=JOB_NAME, defaults={"last_started_at": started})
    result = sweep_once(now=now, batch_size=batch_size, max_batches=max_batches)
    JobHeartbeat.objects.update_or_create(
        name=JOB_NAME,
        defaults={"last_success_at": timezone.now(), "last_summary": result.as_dict(),
                  "last_error": "\n".join(result.failures[:20]), "expected_every_seconds": 60},
    )
    return result


def sweep_once(*, now: datetime, batch_size: int = 500, max_batches: int | None = None) -> SweepResult:
    """The work of one sweep without the heartbeat (benchmarks and tests call this)."""
    result = SweepResult()
    while max_batches is None or result.batches < max_batches:
        with transaction.atomic():
            clocks = _due_batch(now, batch_size, result.failed_ids)
            if not clocks:
                break
            _process_batch(clocks, now, result)
        result.batches += 1
        if len(clocks) < batch_size:
            break
    return result
