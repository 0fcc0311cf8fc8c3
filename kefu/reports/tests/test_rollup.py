"""The kept figures: equal to a direct count for random months, idempotent, driven by the checkpoint."""

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from kefu.core.scope import Scope
from kefu.reports import months, rollup, selectors
from kefu.reports.models import MonthlyCount, RollupCheckpoint
from kefu.tickets.models import Ticket

from .factories import category, ticket

SH = ZoneInfo("Asia/Shanghai")
SLUGS = ["bj", "sh", "js", "gd", "xj", "hi"]
CATS = [
    "cf_activation_account",
    "cf_termination_other",
    "cf_usage_login",
    "cf_usage_bill",
    "cf_incident",
    "cf_other",
    None,
]
KINDS = ["complaint", "fault", "consultation", "acceptance"]
CHANNELS = ["province_desk", "hotline", "online", "account_manager"]


def snapshot():
    return sorted(
        MonthlyCount.objects.unscoped("test").values_list(
            "id", "month", "province_id", "category_id", "kind", "channel", "resolved_from_kb", "count"
        )
    )


def random_orders(rng: random.Random, n: int) -> None:
    # 24 months in the past (a rollup reads changes up to "now"; future stamps wait for their time).
    first = datetime(2024, 9, 1, tzinfo=SH)
    for _ in range(n):
        kind = rng.choice(KINDS)
        cat = (
            rng.choice(CATS[:-1]) if kind in ("complaint", "fault") else rng.choice([None, "cf_usage_login"])
        )
        # Some orders right on a month boundary (Beijing midnight) or one second before it.
        if rng.random() < 0.15:
            m = months.add_months(date(2024, 9, 1), rng.randrange(1, 24))
            start, _ = months.bounds(m)
            at = start - timedelta(seconds=rng.choice([0, 1]))
        else:
            at = first + timedelta(seconds=rng.randrange(24 * 30 * 86400))
        ticket(
            slug=rng.choice(SLUGS),
            at=at,
            kind=kind,
            cat=cat,
            channel=rng.choice(CHANNELS),
            kb=rng.random() < 0.3,
        )


@pytest.mark.django_db
def test_rollup_equals_direct_count_for_random_months():
    rng = random.Random(8)
    random_orders(rng, 400)
    rollup.run(now=timezone.now())
    aud = selectors.audience(Scope.everything())
    all_months = months.month_range(date(2024, 8, 1), date(2026, 10, 1))
    for month in rng.sample(all_months, 10) + [date(2024, 8, 1), date(2024, 9, 1), date(2026, 8, 1)]:
        assert (
            selectors.monthly_table(aud, month).as_dict()
            == selectors.monthly_table_direct(aud, month).as_dict()
        )
    # And in total: every order of every kind is in exactly one kept cell.
    kept = sum(MonthlyCount.objects.unscoped("test").values_list("count", flat=True))
    assert kept == Ticket.objects.unscoped("test").count() == 400


@pytest.mark.django_db
def test_second_run_changes_nothing():
    random_orders(random.Random(3), 120)
    first = rollup.run(now=timezone.now())
    assert first.inserted > 0
    before = snapshot()
    again = rollup.run(now=timezone.now())
    assert again.writes == 0
    assert snapshot() == before
    rebuilt = rollup.rebuild_months(rollup.months_with_orders())
    assert rebuilt.writes == 0 and snapshot() == before


@pytest.mark.django_db
def test_changes_after_the_checkpoint_are_picked_up_and_only_their_cells_recomputed():
    t0 = timezone.now()
    a = ticket(
        slug="bj",
        at=datetime(2026, 3, 5, tzinfo=SH),
        cat="cf_usage_login",
        updated_at=t0 - timedelta(hours=1),
    )
    ticket(
        slug="sh",
        at=datetime(2026, 4, 5, tzinfo=SH),
        cat="cf_usage_login",
        updated_at=t0 - timedelta(hours=1),
    )
    rollup.run(now=t0 + timedelta(seconds=1))
    checkpoint = RollupCheckpoint.objects.get(name=rollup.CHECKPOINT)
    assert checkpoint.changed_until == t0 + timedelta(seconds=1)

    later = t0 + timedelta(hours=1)
    Ticket.objects.unscoped("test").filter(pk=a.pk).update(category=category("cf_incident"), updated_at=later)
    result = rollup.run(now=later + timedelta(seconds=1))
    assert result.cells == 1  # (2026-03, 北京) only
    row = MonthlyCount.objects.unscoped("test").get(month=date(2026, 3, 1))
    assert row.category_id == category("cf_incident").pk and row.count == 1


@pytest.mark.django_db
def test_a_late_commit_inside_the_overlap_window_is_not_lost():
    t0 = timezone.now()
    rollup.run(now=t0)
    # Stamped before the checkpoint, committed after the run: the overlap re-reads it.
    ticket(slug="js", at=datetime(2026, 5, 1, tzinfo=SH), updated_at=t0 - timedelta(minutes=2))
    rollup.run(now=t0 + timedelta(minutes=1))
    assert MonthlyCount.objects.unscoped("test").filter(month=date(2026, 5, 1)).count() == 1


@pytest.mark.django_db
def test_kept_figures_are_province_scoped():
    ticket(slug="bj", at=datetime(2026, 3, 5, tzinfo=SH))
    rollup.run(now=timezone.now())
    from kefu.core.scope import ScopeMissing

    with pytest.raises(ScopeMissing):
        list(MonthlyCount.objects.all())
    sh = __import__("kefu.org.models", fromlist=["Province"]).Province.objects.get(slug="sh")
    assert MonthlyCount.objects.scoped(Scope.provinces([sh.pk])).count() == 0


@pytest.mark.django_db
def test_a_new_order_in_an_existing_cell_updates_its_count_in_place():
    t0 = timezone.now() - timedelta(hours=2)
    ticket(slug="bj", at=datetime(2026, 3, 5, tzinfo=SH), updated_at=t0)
    rollup.run(now=t0 + timedelta(seconds=1))
    ((row_id, count),) = MonthlyCount.objects.unscoped("test").values_list("id", "count")
    assert count == 1
    ticket(slug="bj", at=datetime(2026, 3, 6, tzinfo=SH), updated_at=t0 + timedelta(hours=1))
    result = rollup.run(now=t0 + timedelta(hours=1, seconds=1))
    assert (result.inserted, result.updated, result.deleted) == (0, 1, 0)
    assert list(MonthlyCount.objects.unscoped("test").values_list("id", "count")) == [(row_id, 2)]
