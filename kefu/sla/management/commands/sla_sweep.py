from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kefu.sla.sweep import sweep


class Command(BaseCommand):
    help = "Run the SLA sweep once: warnings, breaches and automatic acceptances now due."

    def handle(self, *args: Any, **options: Any) -> None:
        result = sweep()
        self.stdout.write(
            f"warned={result.warned} breached={result.breached} handled={result.handled} "
            f"failed={result.failed} batches={result.batches}"
        )
