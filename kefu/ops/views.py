"""Operators' endpoints: readiness for the load balancer, metrics for Prometheus."""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST

from kefu.core.views import HEALTH_CHECKS

from . import metrics

log = logging.getLogger(__name__)


def _ping(*names: str) -> str | None:
    urls = [u for u in (os.environ.get(name) for name in names) if u]
    for url in dict.fromkeys(urls):
        try:
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", named below
            log.warning("readyz: redis check failed (%s): %s", ", ".join(names), exc)
            return type(exc).__name__
    return None


def _check_redis() -> str | None:
    return _ping("HUEY_REDIS_URL", "CHANNELS_REDIS_URL")


def _check_cache() -> str | None:
    """The shared cache of the rate limits: without it they fail open (every request allowed), so the
    node still serves; the answer degrades instead."""
    return _ping("KEFU_CACHE_URL")


def _check_sweep() -> str | None:
    from kefu.core.models import JobHeartbeat
    from kefu.sla.sweep import JOB_NAME

    beat = JobHeartbeat.objects.filter(name=JOB_NAME).first()
    if beat is None or beat.is_late(timezone.now()):
        return "late"
    return None


def _check_queue() -> str | None:
    limit = int(os.environ.get("KEFU_READY_MAX_QUEUE", "10000"))
    try:
        pending = metrics.queue_length()
    except Exception as exc:  # noqa: BLE001
        return type(exc).__name__
    return f"{pending} pending" if pending > limit else None


# Without these this process cannot serve: the load balancer must take it out.
CRITICAL: dict[str, Callable[[], str | None]] = {**HEALTH_CHECKS, "redis": _check_redis}


# These say the background side is behind (worker down or slow): every app server
# would fail them at once, so they degrade the answer instead of failing it,
# unless the caller asks ?strict=1 (monitoring does; load balancers should not).
def _check_calendar() -> str | None:
    from kefu.sla.holiday_source import missing_year

    year = missing_year(timezone.localdate())
    return None if year is None else f"no holidays for {year}"


ADVISORY: dict[str, Callable[[], str | None]] = {
    "cache": _check_cache,
    "sweep": _check_sweep,
    "queue": _check_queue,
    "calendar": _check_calendar,
}


def readyz(request: HttpRequest) -> HttpResponse:
    strict = request.GET.get("strict") == "1"
    failing = {name: err for name, check in CRITICAL.items() if (err := check()) is not None}
    behind = {}
    if not failing:
        behind = {name: err for name, check in ADVISORY.items() if (err := check()) is not None}
    if failing or (strict and behind):
        status, code = "unavailable", 503
    else:
        status, code = ("degraded" if behind else "ok"), 200
    response = JsonResponse(
        {
            "status": status,
            "failing": sorted(failing),
            "behind": sorted(behind),
            "errors": {**failing, **behind},
        },
        status=code,
    )
    response["Cache-Control"] = "no-store"
    return response


def _metrics_allowed(request: HttpRequest) -> bool:
    token = getattr(settings, "KEFU_METRICS_TOKEN", "") or os.environ.get("KEFU_METRICS_TOKEN", "")
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, for a bearer token (KEFU_METRICS_TOKEN) or a staff user; 404 for anyone else."""
    if not _metrics_allowed(request):
        raise Http404
    response = HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
