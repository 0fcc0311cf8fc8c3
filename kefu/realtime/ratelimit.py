"""Fixed-window counters on the Django cache (per process by default, shared with a shared cache)."""

from __future__ import annotations

import time

from django.core.cache import cache


def hit(bucket: str, key: str, *, limit: int, window_s: int, now: float | None = None) -> bool:
    """Count one hit; False once ``limit`` hits fell in the current window."""
    window = int((now if now is not None else time.time()) // window_s)
    cache_key = f"rl:{bucket}:{key}:{window}"
    if cache.add(cache_key, 1, timeout=window_s + 1):
        return True
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window_s + 1)
        return True
    return count <= limit
