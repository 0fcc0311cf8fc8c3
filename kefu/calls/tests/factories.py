"""Test helpers: calls on a province's desk line or the hotline, written straight (not through ingest)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from kefu.calls.models import Call, CallSource, Line
from kefu.calls.services import derive

_n = itertools.count(1)


def source(code: str = "pbx", **kw: Any) -> CallSource:
    obj, _ = CallSource.objects.get_or_create(code=code, defaults={"name": code, **kw})
    return obj


def line_of(province: Any | None) -> Line:
    code = "hotline" if province is None else f"desk_{province.slug}"
    return Line.objects.unscoped("tests").select_related("calendar").get(code=code)


def make_call(
    province: Any | None = None,
    *,
    caller: str = "",
    wait: int | None = 10,
    at: datetime | None = None,
    **kw: Any,
) -> Call:
    line = line_of(province)
    n = next(_n)
    start = at or timezone.now() - timedelta(minutes=5)
    call = Call(
        source=source(),
        call_id=f"t-{n}",
        line=line,
        province_id=line.province_id,
        caller=caller or f"1391111{n:04d}",
        caller_raw=caller or f"1391111{n:04d}",
        started_at=start,
        queued_at=start,
        answered_at=start + timedelta(seconds=wait) if wait is not None else None,
        ended_at=start + timedelta(minutes=3),
        **kw,
    )
    derive(call)
    call.save()
    return call
