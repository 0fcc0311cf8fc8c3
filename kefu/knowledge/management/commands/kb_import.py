"""Import knowledge documents from .xlsx or .jsonl (see kefu/knowledge/importer.py for the columns)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.core.errors import DomainError
from kefu.knowledge import importer
from kefu.org.access import actor_for
from kefu.org.models import User


class Command(BaseCommand):
    help = "导入知识(Excel 或 JSON Lines) / Import articles from Excel or JSON Lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument(
            "--as-user", required=True, help="username of the importing author or administrator"
        )
        parser.add_argument(
            "--mode",
            choices=["draft", "published"],
            default="draft",
            help="draft: enter the approval workflow; published: an administrator's first load",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["as_user"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['as_user']!r}")
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")

        def progress(done: int, total: int) -> None:
            if done == total or done % max(1, total // 20) == 0:
                self.stdout.write(f"\r  {done}/{total} ({done * 100 // total}%)", ending="")
                self.stdout.flush()

        try:
            contents = importer.parse_rows(path.name, path.read_bytes())
            self.stdout.write(f"{len(contents)} row(s) valid; importing as {options['mode']}")
            result = importer.import_contents(
                actor=actor_for(user), contents=contents, mode=options["mode"], progress=progress
            )
        except DomainError as exc:
            details = "\n".join(f"  {d['message']}" for d in exc.fields)
            raise CommandError(f"{exc.message} / {exc.message_en}\n{details}") from None
        self.stdout.write(
            f"\nimported {result.created} article(s) as {result.mode}"
            + (
                f"; ids KB{result.article_ids[0]:06d}..KB{result.article_ids[-1]:06d}"
                if result.article_ids
                else ""
            )
        )
        if result.skipped:
            self.stdout.write(
                f"skipped {len(result.skipped)} row(s) whose external id was imported before: "
                + ", ".join(result.skipped[:20])
                + (" ..." if len(result.skipped) > 20 else "")
            )
