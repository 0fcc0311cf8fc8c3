"""Half-hour rollups: ingest only appends deltas; the fold and the readers give exact counts.

The concurrency test runs on PostgreSQL: eight threads feed the events of 240
calls (all in the same two half hours, so every writer would meet on the same
rollup rows) in scrambled order; the figures read before and after the fold
equal a direct count of the calls.
"""

from __future__ import annotations

import random
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Count, Q, Sum

from kefu.calls import selectors, services
from kefu.calls.models import Call, CallSource, DayTotal, HalfHour, Line, SlotDelta
from kefu.calls.parsers import parse_cti
from kefu.core.scope import Scope

T0 = datetime(2026, 12, 3, 1, 10, tzinfo=UTC)  # 09:10 Beijing
DAY = date(2026, 12, 3)


def cti(event: str, at: datetime, call_id: str, **kw):
    payload = {"event": event, "callId": call_id, "from": "13800138000", "to": "4009208566", **kw}
    return parse_cti(payload, received_at=at)


def call_events(i: int) -> list:
    """A call's events; some answered within 20 s, some late, some abandoned, some moved by a late newCall."""
    cid = f"k{i}"
    start = T0 + timedelta(seconds=7 * i)  # 240 calls over 28 minutes: slots 09:00 and 09:30
    kind = i % 4
    events = [cti("newCall", start, cid, queue="hotline")]
    if kind == 0:
        events += [cti("answer", start + timedelta(seconds=12), cid, answeringNumber="8001")]
    elif kind == 1:
        events += [cti("answer", start + timedelta(seconds=35), cid, answeringNumber="8001")]
    elif kind == 3:
        # an IVR arrival first, the queue entry later: the request moves to the later instant
        events = [
            cti("newCall", start - timedelta(seconds=40), cid),
            cti("newCall", start, cid, queue="hotline"),
            cti("answer", start + timedelta(seconds=20), cid, answeringNumber="8002"),
        ]
    events.append(cti("hangup", start + timedelta(minutes=3), cid, cause="normalClearing"))
    return events


def direct_counts(line: Line) -> dict[str, int]:
    got = (
        Call.objects.unscoped("test")
        .filter(line=line, direction="in", request_at__isnull=False)
        .aggregate(
            offered=Count("id"),
            answered=Count("id", filter=Q(answered_at__isnull=False)),
            in_target=Count("id", filter=Q(answered_in_target=True)),
            abandoned=Count("id", filter=Q(outcome="abandoned")),
            talk=Sum("talk_seconds", filter=Q(answered_at__isnull=False)),
        )
    )
    return {k: v or 0 for k, v in got.items()}


def figures_of(line: Line) -> dict[str, int]:
    (f,) = selectors.rate_figures(Scope.everything(), start=DAY, end=DAY, lines=[line], with_slots=False)
    t = f.total
    return {
        "offered": t.offered,
        "answered": t.answered,
        "in_target": t.answered_in_target,
        "abandoned": t.abandoned,
        "talk": t.talk_seconds,
    }


@pytest.mark.django_db(transaction=True)
def test_concurrent_ingest_gives_exact_counts_on_postgresql(is_postgres):
    if not is_postgres:
        pytest.skip("parallel writers need PostgreSQL (SQLite serialises the whole database)")
    src = CallSource.objects.create(code="conc", name="C", auth="hmac", secret="k")
    line = Line.objects.unscoped("test").get(code="hotline")
    events = [e for i in range(240) for e in call_events(i)]
    random.Random(3).shuffle(events)  # events of one call arrive out of order, on different threads
    # and every event twice: the duplicate must not count twice
    queue = events + events[::-1]
    lock = threading.Lock()
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        try:
            barrier.wait()
            while True:
                with lock:
                    if not queue:
                        return
                    fact = queue.pop()
                services.cti_event_ingest(source=src, fact=fact)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Call.objects.unscoped("test").filter(source=src).count() == 240
    expected = {"offered": 240, "answered": 180, "in_target": 120, "abandoned": 60, "talk": 0}
    assert direct_counts(line) == expected
    # Before any fold: the readers add the deltas, and nothing else holds the figures.
    assert not HalfHour.objects.unscoped("test").exists()
    assert figures_of(line) == expected
    services.rollups_fold()
    assert not SlotDelta.objects.unscoped("test").exists()
    assert figures_of(line) == expected
    rows = HalfHour.objects.unscoped("test").filter(line=line).order_by("slot")
    assert [r.slot for r in rows] == [
        datetime(2026, 12, 3, 1, 0, tzinfo=UTC),
        datetime(2026, 12, 3, 1, 30, tzinfo=UTC),
    ]
    assert sum(r.offered for r in rows) == 240
    assert DayTotal.objects.unscoped("test").get(line=line, day=DAY, in_hours=True).answered_in_target == 120


def test_fold_keeps_figures_and_a_moved_request_leaves_its_old_half_hour(db):
    src = CallSource.objects.create(code="fold", name="F", auth="hmac", secret="k")
    line = Line.objects.unscoped("test").get(code="hotline")
    late = T0 + timedelta(minutes=25)  # 09:35: the next half hour
    services.cti_event_ingest(source=src, fact=cti("newCall", late, "m1", queue="hotline"))
    services.rollups_fold()
    assert HalfHour.objects.unscoped("test").get(slot=datetime(2026, 12, 3, 1, 30, tzinfo=UTC)).offered == 1
    # an earlier queue entry of the same call arrives after the fold: the request moves to 09:10
    services.cti_event_ingest(source=src, fact=cti("newCall", T0, "m1", queue="hotline"))
    services.cti_event_ingest(
        source=src, fact=cti("answer", T0 + timedelta(seconds=20), "m1", answeringNumber="x")
    )
    assert figures_of(line)["in_target"] == 1 and figures_of(line)["offered"] == 1
    (f,) = selectors.rate_figures(Scope.everything(), start=DAY, end=DAY, lines=[line], slots_for="hotline")
    assert {k.strftime("%H:%M"): v.offered for k, v in f.slots.items()} == {"09:00": 1, "09:30": 0}
    assert services.rollups_fold() == 3  # -1 at 09:30 and +1 at 09:00, then the answer at 09:00
    rows = {r.slot.astimezone(UTC).strftime("%H:%M"): r for r in HalfHour.objects.unscoped("test")}
    assert (rows["01:00"].offered, rows["01:00"].answered_in_target, rows["01:30"].offered) == (1, 1, 0)
    assert services.rollups_fold() == 0
