"""The shared WebSocket layer (Channels): one socket, one auth path, one scoping rule.

``kefu.realtime.publish(group, event, payload)`` is the one way a service pushes
to browsers; see docs/realtime.md.
"""

from __future__ import annotations

from typing import Any


def publish(
    group: str, event: str, payload: dict[str, Any], *, seq: int | None = None, ephemeral: bool = False
) -> int | None:
    """Store (unless ephemeral) and send after commit; see ``kefu.realtime.services.publish``."""
    from .services import publish as _publish

    return _publish(group, event, payload, seq=seq, ephemeral=ephemeral)
