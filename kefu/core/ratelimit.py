"""Fixed-window counters on the Django cache: per process by default, shared by every app server with
``KEFU_CACHE_URL`` (Redis, config/settings.py).

A limit protects the service; its counter store must not take the service down. While the shared
cache cannot be reached, every hit is allowed and a warning is logged (at most once a minute per
process): chat messages, pushes and CTI events go on flowing, unlimited, until Redis is back.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

log = logging.getLogger(__name__)
_warned_at = [0.0]


def hit(bucket: str, key: str, *, limit: int, window_s: int, now: float | None = None) -> bool:
    """Count one hit; False once ``limit`` hits fell in the current window."""
    window = int((now if now is not None else time.time()) // window_s)
    cache_key = f"rl:{bucket}:{key}:{window}"
    try:
        if cache.add(cache_key, 1, timeout=window_s + 1):
            return True
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.add(cache_key, 1, timeout=window_s + 1)
            return True
    except Exception as exc:  # the cache's own errors (redis.ConnectionError, timeouts): fail open
        if time.monotonic() - _warned_at[0] > 60:
            _warned_at[0] = time.monotonic()
            log.warning("rate limits not counted, the cache is unreachable: %s", exc)
        return True
    return count <= limit
