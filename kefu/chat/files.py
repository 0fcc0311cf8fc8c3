"""Files in chat: the work-order attachment rules (``kefu.tickets.attachments.check``), our own storage.

Same allow-list, size limit, leading-byte and markup checks, same error codes
and messages as a file attached to a work order. The stored name is made here;
the uploaded name is only shown and put in the download header.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse
from django.utils import timezone

from kefu.org.models import User
from kefu.tickets.attachments import MAX_BYTES, MAX_PER_TICKET, Upload, check

from .models import Attachment, Conversation

__all__ = ["MAX_BYTES", "MAX_PER_CONVERSATION", "Upload", "check", "download_response", "file_frame", "store"]

# One conversation holds as many files as one work order, so an order made from it can take them all.
MAX_PER_CONVERSATION = MAX_PER_TICKET - 1  # the order also gets the transcript


def store(
    c: Conversation,
    *,
    name: str,
    content_type: str,
    content: bytes,
    sender: str,
    now: datetime,
    user: User | None = None,
    is_transcript: bool = False,
) -> Attachment:
    """Write the bytes and the row (the caller checked them and holds the conversation's lock)."""
    local = timezone.localtime(now)
    storage_name = f"chat/{local:%Y}/{local:%m}/{secrets.token_hex(16)}"
    saved = default_storage.save(storage_name, ContentFile(content))
    return Attachment.objects.create(
        conversation=c,
        sender=sender,
        uploaded_by=user,
        storage_name=saved,
        original_name=name,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        is_transcript=is_transcript,
        created_at=now,
    )


def file_frame(a: Attachment) -> dict[str, object]:
    return {
        "id": a.pk,
        "name": a.original_name,
        "size": a.size,
        "type": a.content_type.split(";", 1)[0],
        "image": a.is_image,
        "transcript": a.is_transcript,
    }


def read_bytes(a: Attachment) -> bytes:
    with default_storage.open(a.storage_name, "rb") as fh:
        data: bytes = fh.read()
    return data


def download_response(a: Attachment, *, inline_image: bool = False) -> FileResponse:
    """The caller fetched ``a`` through a scoped lookup on this request.

    Images (PNG/JPEG/GIF whose leading bytes were checked on upload) may be shown inline
    for thumbnails; everything else is a download, as for work orders.
    """
    inline = inline_image and a.is_image
    response = FileResponse(
        default_storage.open(a.storage_name, "rb"),
        as_attachment=not inline,
        filename=a.original_name,
        content_type=a.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
