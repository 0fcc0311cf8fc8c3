"""Serving attachments: always as a download, never rendered by the browser."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse

from .models import Attachment


def download_response(att: Attachment) -> FileResponse:
    """The caller fetched ``att`` through the scoped selector on this request (authorised every time)."""
    content_type = att.content_type
    # Text is sent as plain text whatever it contains; nothing is ever rendered inline.
    response = FileResponse(
        default_storage.open(att.storage_name, "rb"),
        as_attachment=True,
        filename=att.original_name,
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
