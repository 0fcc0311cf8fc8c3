"""Links that leave the site: a mail is read outside the browser, so its links must be absolute."""

from __future__ import annotations

from django.conf import settings


def absolute_url(path: str) -> str:
    """``/tickets/T…/`` as ``https://kefu.example.cn/tickets/T…/`` (``KEFU_PUBLIC_URL``, docs/deploy.md).

    Takes a site path (what ``reverse()`` gives); anything else is a programming error.
    """
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError(f"absolute_url takes a site path starting with one '/', not {path!r}")
    return str(settings.KEFU_PUBLIC_URL).rstrip("/") + path
