"""Attachments: limits checked on the bytes, names made by the server, downloads never rendered inline.

The uploaded name is kept only for display and for the download header; the
file is stored as ``tickets/<yyyy>/<mm>/<random hex>`` with no extension. The
type comes from our allow-list by extension and must match the file's leading
bytes for the binary formats, so a renamed HTML page is not stored as a PNG.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from kefu.core.errors import ValidationFailed
from kefu.org.access import Actor
from kefu.tickets.codes import TicketCode

from .models import Attachment, Status, Ticket
from .services import _event, _illegal, _lock, _participant_team, _save

MAX_BYTES = 10 * 1024 * 1024
MAX_PER_TICKET = 20

# extension -> (content type served, leading bytes it must start with, or None for text)
ALLOWED: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "txt": ("text/plain; charset=utf-8", None),
    "log": ("text/plain; charset=utf-8", None),
    "csv": ("text/csv; charset=utf-8", None),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    "zip": ("application/zip", (b"PK\x03\x04",)),
    "mp3": ("audio/mpeg", (b"ID3", b"\xff\xfb", b"\xff\xf3")),
    "wav": ("audio/wav", (b"RIFF",)),
}
_MARKUP = (b"<!doctype", b"<html", b"<svg", b"<script", b"<?xml")


_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def looks_like_markup(content: bytes) -> bool:
    """Whether a text file starts (after any byte-order mark and whitespace) with HTML/SVG/XML markup.

    Browsers sniff past a BOM and decode UTF-16, so the check does too: ``EF BB BF <html>`` and
    ``FF FE <\0h\0…`` are markup however the file is named.
    """
    head = content[:1024]
    encoding = "utf-8"
    for bom, enc in _BOMS:
        if head.startswith(bom):
            head, encoding = head[len(bom) :], enc
            break
    else:
        # UTF-16 without a BOM: every other byte of ASCII text is NUL.
        if len(head) >= 4 and head[1:8:2].count(0) >= 2 and head[0] != 0:
            encoding = "utf-16-le"
        elif len(head) >= 4 and head[0:8:2].count(0) >= 2 and head[1] != 0:
            encoding = "utf-16-be"
    text = head.decode(encoding, errors="ignore").lstrip(" \t\r\n\f\v\ufeff\x00")
    return text[:16].lower().encode("ascii", errors="ignore").startswith(_MARKUP)


@dataclass(frozen=True)
class Upload:
    name: str
    content: bytes


def _refuse(zh: str, en: str, code: str) -> ValidationFailed:
    return ValidationFailed(zh, en, code=code, fields=[{"field": "file", "type": code}])


def check(upload: Upload) -> tuple[str, str]:
    """(clean display name, content type) or ValidationFailed."""
    name = upload.name.replace("\\", "/").rsplit("/", 1)[-1].strip().replace("\x00", "")[:200]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ALLOWED:
        raise _refuse(
            f"不支持的文件类型(允许：{'、'.join(sorted(ALLOWED))})。",
            "File type not allowed.",
            TicketCode.FILE_TYPE,
        )
    if not upload.content:
        raise _refuse("文件为空。", "The file is empty.", TicketCode.FILE_EMPTY)
    if len(upload.content) > MAX_BYTES:
        raise _refuse(
            f"文件超过 {MAX_BYTES // (1024 * 1024)} MB。", "The file is too large.", TicketCode.FILE_TOO_LARGE
        )
    content_type, magic = ALLOWED[ext]
    head = upload.content[:512]
    if magic is not None and not head.startswith(magic):
        raise _refuse(
            "文件内容与扩展名不符。",
            "The file content does not match its extension.",
            TicketCode.FILE_MISMATCH,
        )
    if magic is None:
        try:
            upload.content.decode("utf-8")
        except UnicodeDecodeError:
            try:
                upload.content.decode("gb18030")
            except UnicodeDecodeError:
                raise _refuse(
                    "文本文件编码无法识别(请使用 UTF-8)。",
                    "Text files must be UTF-8.",
                    TicketCode.FILE_ENCODING,
                ) from None
        if looks_like_markup(upload.content):
            raise _refuse(
                "不接受 HTML/SVG 等标记文件。",
                "Markup (HTML/SVG) files are not accepted.",
                TicketCode.FILE_MARKUP,
            )
    return name, content_type


def attachment_add(
    *, actor: Actor, ticket: Ticket, upload: Upload, now: datetime | None = None
) -> Attachment:
    now = now or timezone.now()
    name, content_type = check(upload)
    local = timezone.localtime(now)
    storage_name = f"tickets/{local:%Y}/{local:%m}/{secrets.token_hex(16)}"
    with transaction.atomic():
        actor.require("ticket.work")
        t = _lock(ticket)
        if t.status == Status.CLOSED:
            raise _illegal(t, "attach", actor)
        team_id = _participant_team(actor, t)
        if t.attachments.count() >= MAX_PER_TICKET:
            raise _refuse(
                f"每张工单最多 {MAX_PER_TICKET} 个附件。",
                "Too many attachments on this order.",
                TicketCode.FILE_COUNT,
            )
        saved = default_storage.save(storage_name, ContentFile(upload.content))
        att = Attachment.objects.create(
            ticket=t,
            storage_name=saved,
            original_name=name,
            content_type=content_type,
            size=len(upload.content),
            sha256=hashlib.sha256(upload.content).hexdigest(),
            uploaded_by=actor.user,
            team_id=team_id,
            created_at=now,
        )
        _save(t, now)
        _event(actor, t, "ticket.attachment_added", attachment=att.pk, name=name, size=att.size)
    return att
