"""Bring the kept monthly figures up to date: ``manage.py reports_rollup [--month 2026-10 ...] [--all]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from kefu.reports import months, rollup, services


class Command(BaseCommand):
    help = "按检查点更新统计汇总；--month 重算指定月份；--all 重算有工单的全部月份"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--month", action="append", default=[], help="YYYY-MM，可重复")
        parser.add_argument("--all", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["all"] or opts["month"]:
            wanted = (
                rollup.months_with_orders()
                if opts["all"]
                else [
                    months.parse_month(m, default=months.previous_month(timezone.now()))
                    for m in opts["month"]
                ]
            )
            result = services.rollup_rebuild(month_list=wanted)
        else:
            result = services.rollup_run(now=timezone.now())
        self.stdout.write(
            f"cells={result.cells} inserted={result.inserted} updated={result.updated} "
            f"deleted={result.deleted}"
        )
