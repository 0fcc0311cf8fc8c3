"""Bridge for the in-memory channel layer: events stored by other processes reach this one's sockets.

With ``CHANNELS_REDIS_URL`` every process publishes into one layer and this is
not needed. With the in-memory default, only the socket server (daphne) holds
sockets, while gunicorn and the Huey worker also publish: their events are
stored (``realtime.Event``) but their ``group_send`` reaches nobody. The relay
is one task per socket-server process that reads new stored events every
``KEFU_RT_RELAY_INTERVAL`` seconds (default 0.5) and sends them to the local
layer; sockets drop what they already had by sequence number.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer
from django.conf import settings

from .models import Event
from .services import event_frame, layer_group

log = logging.getLogger(__name__)

_task: asyncio.Task[None] | None = None


def enabled(layer: Any) -> bool:
    default = not getattr(settings, "TESTING", False)
    return isinstance(layer, InMemoryChannelLayer) and bool(getattr(settings, "KEFU_RT_RELAY", default))


def ensure_started(layer: Any) -> None:
    global _task
    if not enabled(layer):
        return
    if _task is not None and not _task.done():
        return
    _task = asyncio.get_running_loop().create_task(_run(layer))


def _newest_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _after(last_id: int) -> list[tuple[int, str, int, str, Any]]:
    return list(
        Event.objects.filter(id__gt=last_id)
        .order_by("id")
        .values_list("id", "group", "seq", "event", "payload")[:500]
    )


async def _run(layer: Any) -> None:
    interval = float(getattr(settings, "KEFU_RT_RELAY_INTERVAL", 0.5))
    last_id = await database_sync_to_async(_newest_id)()
    while True:
        await asyncio.sleep(interval)
        try:
            rows = await database_sync_to_async(_after)(last_id)
            for row_id, group, seq, event, payload in rows:
                last_id = row_id
                await layer.group_send(
                    layer_group(group), {"type": "rt.event", "frame": event_frame(group, seq, event, payload)}
                )
        except Exception:
            log.exception("realtime relay: reading stored events failed")
