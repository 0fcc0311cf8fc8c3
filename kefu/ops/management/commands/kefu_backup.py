from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kefu.ops.backup import DrillError, backup


class Command(BaseCommand):
    help = "备份数据库与上传文件(含校验清单) / Take a consistent backup: database, uploaded files, manifest"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("folder", nargs="?", help="a new or empty folder (default var/backups/<time>)")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings

        folder = Path(
            options["folder"]
            or Path(settings.VAR_DIR) / "backups" / timezone.now().strftime("%Y%m%dT%H%M%SZ")
        )
        try:
            s = backup(folder, say=lambda line: self.stdout.write(f"  {line}"))
        except DrillError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"备份完成 / backup written: {s.folder} — {s.tables} tables, {s.rows} rows, {s.files} files, {s.seconds:.1f} s"
            )
        )
