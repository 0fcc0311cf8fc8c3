from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kefu.ops.backup import DrillError, restore


class Command(BaseCommand):
    help = "把备份恢复到空数据库并核对 / Restore a backup into an empty database and verify it"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("folder")
        parser.add_argument(
            "--database-url", required=True, help="the EMPTY target database (postgres://… or sqlite:///…)"
        )
        parser.add_argument("--media-root", required=True, help="the EMPTY folder for the uploaded files")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            s = restore(
                Path(options["folder"]),
                database_url=options["database_url"],
                media_root=Path(options["media_root"]),
                say=lambda line: self.stdout.write(f"  {line}"),
            )
        except DrillError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"恢复并核对完成 / restored and verified: {s.tables} tables, {s.rows} rows, {s.files} files, "
                f"{s.seconds:.1f} s"
            )
        )
