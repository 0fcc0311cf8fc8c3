from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kefu.demo.loader import load_all
from kefu.org.models import User


class Command(BaseCommand):
    help = "载入演示数据(31 省、每种角色、客户、工单、知识) / Load demo data"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="only when no demo user exists yet")
        parser.add_argument("--seed", type=int, default=20261127)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and User.objects.filter(username="admin").exists():
            self.stdout.write("demo data already present; skipped")
            return
        load_all(out=self.stdout, seed=options["seed"])
        self.stdout.write(self.style.SUCCESS("demo data loaded"))
