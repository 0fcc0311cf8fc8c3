from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kefu.ops.backup import applied_migrations, compare, database_stats, read_manifest


class Command(BaseCommand):
    help = "核对数据库与备份清单 / Compare this database with a backup's manifest (or print its figures)"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("folder", nargs="?", help="a backup folder whose manifest to compare with")
        parser.add_argument("--print", action="store_true", help="print counts and samples as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            found = {"tables": database_stats(), "migrations": applied_migrations()}
        if options["print"]:
            self.stdout.write(json.dumps(found, ensure_ascii=False))
            return
        if not options["folder"]:
            raise CommandError("需要备份目录或 --print / give a backup folder or --print")
        problems = compare(read_manifest(Path(options["folder"])), found)
        if problems:
            raise CommandError("不一致 / differs: " + "; ".join(problems[:20]))
        self.stdout.write(self.style.SUCCESS("一致 / matches the manifest"))
