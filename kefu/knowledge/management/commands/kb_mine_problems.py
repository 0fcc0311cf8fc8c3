from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kefu.knowledge.mining import mine


class Command(BaseCommand):
    help = "分析近期工单的普遍性问题 / Mine recent work orders for frequent problems no article answers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--min-count", type=int, default=3)

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(str(mine(days=options["days"], min_count=options["min_count"])))
