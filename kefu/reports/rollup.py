"""The rollup job: keep ``MonthlyCount`` equal to a count over the raw work orders.

The job reads the work orders changed since its checkpoint (``Ticket.updated_at``,
indexed), finds the (month, province) cells they belong to, and recomputes those
cells from the raw orders. It writes only the differences, so a second run over
the same data writes nothing; the checkpoint row is locked for the duration, so
two runs never interleave.

A transaction that stamps ``updated_at`` and commits a little later than another
run's start would be missed by a strict ``>`` read, so each run re-reads an
overlap window before the checkpoint (cheap, and harmless because recomputing a
cell is idempotent). ``rebuild_months`` recomputes whole months regardless of
the checkpoint: the nightly reconcile and ``manage.py reports_rollup --month``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Count, Max, Min
from django.db.models.functions import TruncMonth

from kefu.incidents import reporting as incident_reporting
from kefu.tickets.models import Ticket

from . import months
from .models import MonthlyCount, RollupCheckpoint

CHECKPOINT = "monthly_counts"
OVERLAP = timedelta(minutes=10)
_REASON = "reports rollup: national figures are computed for every province"

Dims = tuple[int | None, str, str, bool]  # category_id, kind, channel, resolved_from_kb


@dataclass(frozen=True)
class RollupResult:
    cells: int  # (month, province) cells recomputed
    inserted: int
    updated: int
    deleted: int
    changed_until: datetime | None

    @property
    def writes(self) -> int:
        return self.inserted + self.updated + self.deleted


def _raw_counts(month: date, province_ids: Iterable[int] | None) -> dict[int, dict[Dims, int]]:
    start, end = months.bounds(month)
    qs = Ticket.objects.unscoped(_REASON).filter(created_at__gte=start, created_at__lt=end)
    if province_ids is not None:
        qs = qs.filter(province_id__in=list(province_ids))
    out: dict[int, dict[Dims, int]] = defaultdict(dict)
    # An order linked to a platform incident counts under 突发事件 (kefu.incidents.reporting).
    rows = (
        qs.order_by()
        .annotate(report_category=incident_reporting.report_category())
        .values("province_id", "report_category", "kind", "channel", "resolved_from_kb")
        .annotate(n=Count("id"))
    )
    for r in rows:
        out[r["province_id"]][(r["report_category"], r["kind"], r["channel"], r["resolved_from_kb"])] = r["n"]
    return out


def _apply(month: date, province_ids: set[int] | None) -> tuple[int, int, int]:
    """Make the stored cells of ``month`` (for ``province_ids``, or all) equal to the raw count."""
    fresh = _raw_counts(month, province_ids)
    stored_qs = MonthlyCount.objects.unscoped(_REASON).filter(month=month)
    if province_ids is not None:
        stored_qs = stored_qs.filter(province_id__in=list(province_ids))
    stored: dict[tuple[int, Dims], MonthlyCount] = {
        (row.province_id, (row.category_id, row.kind, row.channel, row.resolved_from_kb)): row
        for row in stored_qs
    }
    wanted = {(p, dims): n for p, cells in fresh.items() for dims, n in cells.items()}
    to_delete = [row.pk for key, row in stored.items() if key not in wanted]
    to_update = []
    for key, n in wanted.items():
        row = stored.get(key)
        if row is not None and row.count != n:
            row.count = n
            to_update.append(row)
    to_insert = [
        MonthlyCount(
            month=month,
            province_id=p,
            category_id=dims[0],
            kind=dims[1],
            channel=dims[2],
            resolved_from_kb=dims[3],
            count=n,
        )
        for (p, dims), n in wanted.items()
        if (p, dims) not in stored
    ]
    if to_delete:
        MonthlyCount.objects.unscoped(_REASON).filter(pk__in=to_delete).delete()
    if to_update:
        MonthlyCount.objects.unscoped(_REASON).bulk_update(to_update, ["count"], batch_size=500)
    if to_insert:
        MonthlyCount.objects.bulk_create(to_insert, batch_size=1000)
    return len(to_insert), len(to_update), len(to_delete)


def _changed_cells(since: datetime | None, until: datetime) -> dict[date, set[int]]:
    qs = Ticket.objects.unscoped(_REASON).filter(updated_at__lte=until)
    if since is not None:
        qs = qs.filter(updated_at__gt=since)
    cells: dict[date, set[int]] = defaultdict(set)
    # Also the orders linked to a platform incident since: they move to 突发事件.
    for changed in (qs, incident_reporting.changed_tickets(since, until)):
        rows = (
            changed.order_by()
            .annotate(m=TruncMonth("created_at", tzinfo=months.REPORT_TZ))
            .values_list("m", "province_id")
            .distinct()
        )
        for m, province_id in rows:
            cells[months.month_of(m) if isinstance(m, datetime) else m.replace(day=1)].add(province_id)
    return cells


def run(*, now: datetime) -> RollupResult:
    """One run of the job: recompute the cells touched since the checkpoint, then move it to ``now``."""
    with transaction.atomic():
        checkpoint, _ = RollupCheckpoint.objects.get_or_create(name=CHECKPOINT)
        checkpoint = RollupCheckpoint.objects.select_for_update().get(pk=checkpoint.pk)
        since = checkpoint.changed_until - OVERLAP if checkpoint.changed_until else None
        cells = _changed_cells(since, now)
        inserted = updated = deleted = 0
        for month, province_ids in sorted(cells.items()):
            i, u, d = _apply(month, province_ids)
            inserted, updated, deleted = inserted + i, updated + u, deleted + d
        n_cells = sum(len(p) for p in cells.values())
        if checkpoint.changed_until is None or now > checkpoint.changed_until:
            checkpoint.changed_until = now
        checkpoint.last_run_at = now
        checkpoint.last_cells = n_cells
        checkpoint.save()
    return RollupResult(n_cells, inserted, updated, deleted, checkpoint.changed_until)


def rebuild_months(month_list: Iterable[date]) -> RollupResult:
    """Recompute every province of the given months from the raw orders (reconcile, repair)."""
    inserted = updated = deleted = cells = 0
    with transaction.atomic():
        # Same lock as ``run`` so a rebuild and a run never interleave.
        checkpoint, _ = RollupCheckpoint.objects.get_or_create(name=CHECKPOINT)
        RollupCheckpoint.objects.select_for_update().get(pk=checkpoint.pk)
        for month in sorted(set(month_list)):
            i, u, d = _apply(month, None)
            inserted, updated, deleted, cells = inserted + i, updated + u, deleted + d, cells + 1
    return RollupResult(cells, inserted, updated, deleted, None)


def months_with_orders() -> list[date]:
    span = Ticket.objects.unscoped(_REASON).aggregate(first=Min("created_at"), last=Max("created_at"))
    if span["first"] is None:
        return []
    return months.month_range(months.month_of(span["first"]), months.month_of(span["last"]))
