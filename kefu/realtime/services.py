"""The writers of the push layer: publish after commit, catch-up reads, visitor tokens.

Services of other apps call ``publish`` inside their own transaction; the event
is stored (with the next sequence number of its group) in that transaction and
sent to the sockets only once it commits, so nobody is told of a change that
was rolled back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from contextvars import ContextVar
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Min
from django.http.request import validate_host
from django.utils import timezone

from . import groups
from .models import AllowedOrigin, Event, GroupCursor, VisitorToken

log = logging.getLogger(__name__)

LAYER_PREFIX = "rt."
MAX_PAYLOAD_BYTES = 64 * 1024

# Set by the socket consumer around an action it runs in a worker thread: the action's pushes are
# collected here at commit and sent by the consumer itself, in order, from the event loop, before
# its reply. Without it every push would block the worker thread on a hop back into the loop.
deferred_pushes: ContextVar[list[tuple[str, dict[str, Any]]] | None] = ContextVar(
    "kefu_rt_deferred_pushes", default=None
)


def layer_is_shared() -> bool:
    """True when every process publishes into one channel layer (Redis): no relay, so no copies for it."""
    return not isinstance(get_channel_layer(), InMemoryChannelLayer | None)


def layer_group(group: str) -> str:
    return LAYER_PREFIX + group


def event_frame(group: str, seq: int | None, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The one shape of an event a client receives (socket and poll alike)."""
    return {"type": "event", "group": group, "seq": seq, "event": event, "payload": payload}


def _plain(payload: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False)
    if len(text.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload of {len(text)} characters is too large to push")
    result: dict[str, Any] = json.loads(text)
    return result


def publish(
    group: str, event: str, payload: dict[str, Any], *, seq: int | None = None, ephemeral: bool = False
) -> int | None:
    """Publish ``event`` to everyone in ``group`` once the current transaction commits.

    * default: the event is stored with the group's next sequence number (returned);
    * ``ephemeral=True``: not stored, no number (typing indicators, presence blips);
    * a group kind registered with a ``reader`` keeps its own log: pass that log's ``seq``.

    Outside a transaction the event is sent at once. A failure to send is logged,
    never raised: the event is stored and clients catch up by sequence number.
    """
    kind, _key = groups.parse(group)
    body = _plain(payload)
    registered = groups.registered_kind(kind)
    if ephemeral:
        seq = None
    elif registered is not None and registered.reader is not None:
        if seq is None:
            raise ValueError(f"group kind {kind!r} keeps its own log: publish with its seq")
        # A copy with the app's own number: the relay (relay.py) carries it to
        # sockets held by another process; catch-up still reads the app's log.
        # With a shared layer (Redis) there is no relay and the copy would only cost an INSERT.
        if not layer_is_shared():
            Event.objects.create(group=group, seq=seq, event=event, payload=body)
    else:
        with transaction.atomic():
            GroupCursor.objects.get_or_create(group=group)
            GroupCursor.objects.filter(group=group).update(last_seq=F("last_seq") + 1)
            seq = GroupCursor.objects.values_list("last_seq", flat=True).get(group=group)
            Event.objects.create(group=group, seq=seq, event=event, payload=body)
    message = {"type": "rt.event", "frame": event_frame(group, seq, event, body)}
    transaction.on_commit(lambda: send_now(layer_group(group), message))
    return seq


def send_now(layer_group_name: str, message: dict[str, Any]) -> None:
    sink = deferred_pushes.get()
    if sink is not None:  # inside a socket action: the consumer sends it from the loop
        sink.append((layer_group_name, message))
        return
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(layer_group_name, message)
    except Exception:  # the event is stored; clients resume by seq
        log.exception("realtime: sending to %s failed", layer_group_name)


def events_since(group: str, since: int, limit: int = 200) -> tuple[list[dict[str, Any]], int, bool]:
    """What a client that has seen up to ``since`` missed: ``(frames in order, latest seq, reset)``.

    ``reset`` is True when the events after ``since`` are no longer all kept
    (pruned): the client must reload its state instead of resuming.
    """
    kind, _key = groups.parse(group)
    registered = groups.registered_kind(kind)
    if registered is not None and registered.reader is not None:
        rows, latest = registered.reader(group, since, limit)
        return [event_frame(group, s, e, p) for s, e, p in rows], latest, False
    latest = GroupCursor.objects.filter(group=group).values_list("last_seq", flat=True).first() or 0
    if since >= latest:
        return [], latest, since > latest
    events = list(Event.objects.filter(group=group, seq__gt=since).order_by("seq")[:limit])
    oldest = Event.objects.filter(group=group).aggregate(m=Min("seq"))["m"]
    reset = oldest is None or since + 1 < oldest
    return [event_frame(group, e.seq, e.event, e.payload) for e in events], latest, reset


def latest_seq(group: str) -> int:
    """The newest sequence number of ``group`` (0 when nothing was published)."""
    kind, _key = groups.parse(group)
    registered = groups.registered_kind(kind)
    if registered is not None and registered.reader is not None:
        return registered.reader(group, 2**62, 0)[1]
    return GroupCursor.objects.filter(group=group).values_list("last_seq", flat=True).first() or 0


def events_prune(*, now: Any = None) -> int:
    """Drop stored events older than ``KEFU_REALTIME_RETENTION_HOURS`` (default 48); the cursors stay."""
    now = now or timezone.now()
    hours = int(getattr(settings, "KEFU_REALTIME_RETENTION_HOURS", 48))
    deleted, _ = Event.objects.filter(created_at__lt=now - timedelta(hours=hours)).delete()
    return deleted


# -- visitor tokens ------------------------------------------------------------


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def visitor_token_issue(
    *, purpose: str, groups_allowed: list[str], ttl: timedelta, now: Any = None
) -> tuple[VisitorToken, str]:
    """A new unguessable token granting exactly ``groups_allowed``; the raw token is returned once."""
    for g in groups_allowed:
        groups.parse(g)
    raw = secrets.token_urlsafe(32)
    now = now or timezone.now()
    token = VisitorToken.objects.create(
        key_hash=_hash(raw),
        purpose=purpose,
        groups=list(groups_allowed),
        created_at=now,
        expires_at=now + ttl,
    )
    return token, raw


def visitor_token_resolve(raw: object, *, now: Any = None) -> VisitorToken | None:
    """The live token for ``raw``, or None (unknown, expired or revoked look the same)."""
    if not isinstance(raw, str) or not (20 <= len(raw) <= 100):
        return None
    token = VisitorToken.objects.filter(key_hash=_hash(raw)).first()
    now = now or timezone.now()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    return token


def visitor_token_revoke(*, token_id: int, now: Any = None) -> None:
    """Invalidate a token; its open sockets are told and closed after commit."""
    VisitorToken.objects.filter(pk=token_id, revoked_at__isnull=True).update(revoked_at=now or timezone.now())
    transaction.on_commit(lambda: send_now(token_layer_group(token_id), {"type": "rt.revoked"}))


def token_layer_group(token_id: int) -> str:
    return f"{LAYER_PREFIX}token.{token_id}"


# -- origins -------------------------------------------------------------------


def origin_is_own(origin: str) -> bool:
    """An origin served by this installation (its host is in ALLOWED_HOSTS; the port may differ)."""
    host = urlsplit(origin).hostname or ""
    return bool(host) and validate_host(host, settings.ALLOWED_HOSTS)


def origin_is_embedding(origin: str) -> bool:
    """A site registered as data (admin: 允许嵌入的站点) whose pages may open visitor sockets."""
    return AllowedOrigin.objects.filter(origin=origin.rstrip("/").lower(), is_active=True).exists()
