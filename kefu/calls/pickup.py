"""The pick-up folder: a PBX copies its queue_log / Master.csv / spreadsheets to ``KEFU_CALLS_INBOX/<source code>/``.

The format follows the name: ``queue_log*`` → queue_log, ``Master*.csv`` or
``*.cdr.csv`` → cdr_csv, other ``.csv``/``.xlsx`` → sheet. Each file is
ingested once through ``services.file_ingest`` and moved to ``done/`` (or
``failed/`` with a ``.reason.txt`` when the whole file is unreadable).
Re-dropping a file is harmless: the merge is idempotent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

from kefu.core.errors import ValidationFailed

from . import services
from .models import CallSource


def format_for(name: str) -> str | None:
    lower = name.lower()
    if lower.startswith("queue_log"):
        return "queue_log"
    if lower.startswith("master") and lower.endswith(".csv") or lower.endswith(".cdr.csv"):
        return "cdr_csv"
    if lower.endswith((".csv", ".xlsx")):
        return "sheet"
    return None


def pickup_all(root: Path | None = None) -> dict[str, Any]:
    base = root or Path(getattr(settings, "KEFU_CALLS_INBOX", "") or Path(settings.VAR_DIR) / "calls-inbox")
    done = failed = 0
    if not base.is_dir():
        return {"files": 0}
    for source in CallSource.objects.filter(is_active=True):
        folder = base / source.code
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            fmt = format_for(path.name)
            if fmt is None:
                continue
            try:
                services.file_ingest(
                    actor=None, source=source, fmt=fmt, filename=path.name, data=path.read_bytes()
                )
            except ValidationFailed as exc:
                _move(path, folder / "failed")
                (folder / "failed" / f"{path.name}.reason.txt").write_text(
                    f"{exc.message}\n{exc.message_en}\n"
                )
                failed += 1
                continue
            _move(path, folder / "done")
            done += 1
    return {"files": done, "failed": failed}


def _move(path: Path, to: Path) -> None:
    to.mkdir(exist_ok=True)
    path.replace(to / path.name)
