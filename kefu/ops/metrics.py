"""Prometheus metrics: request latency by route, and the gauges an operator alerts on.

Request figures are counted in each web process. With several gunicorn workers
set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder that all of them share (the
run command does): prometheus_client then writes each process's figures there
and a scrape adds them up, whichever worker answers it.

The gauges (clocks due, sweep lag, job heartbeats, queue length, mail outbox)
are read from the database at scrape time, so they are the same from every
process.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

REQUEST_SECONDS = Histogram(
    "kefu_http_request_duration_seconds",
    "Time to answer an HTTP request, by route pattern and method",
    ["route", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
REQUESTS = Counter(
    "kefu_http_requests_total",
    "HTTP requests answered, by route pattern, method and status class",
    ["route", "method", "status"],
)


def route_of(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return "/" + (match.route or match.view_name or "unknown")


class MetricsMiddleware:
    """Times every request; the label is the URL pattern, never the raw path (bounded label values)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route, method = route_of(request), request.method or "GET"
        REQUEST_SECONDS.labels(route, method).observe(time.perf_counter() - started)
        REQUESTS.labels(route, method, f"{response.status_code // 100}xx").inc()
        return response


def _gauge(name: str, doc: str, value: float, labels: dict[str, str] | None = None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=list(labels or {}))
    family.add_metric(list((labels or {}).values()), value)
    return family


class StateCollector(Collector):
    """What the database says right now: due work, job health, queues."""

    def collect(self) -> Iterator[GaugeMetricFamily]:

        from kefu.core import outbox as mail_outbox
        from kefu.core.models import JobHeartbeat, OutboxStatus
        from kefu.sla.models import Clock
        from kefu.sla.sweep import JOB_NAME

        now = timezone.now()
        due = (
            Clock.objects.unscoped("metrics: national count")
            .filter(status=Clock.Status.RUNNING, breached_at__isnull=True, due_at__lte=now)
            .count()
        )
        yield _gauge(
            "kefu_sla_clocks_overdue_unswept",
            "Running clocks past their deadline that no sweep has decided",
            due,
        )
        ages = GaugeMetricFamily(
            "kefu_job_last_success_age_seconds",
            "Seconds since each periodic job last succeeded",
            labels=["job"],
        )
        errors = GaugeMetricFamily(
            "kefu_job_last_run_failed", "1 when the job's last run recorded an error", labels=["job"]
        )
        lag = None
        for beat in JobHeartbeat.objects.all():
            age = (now - beat.last_success_at).total_seconds() if beat.last_success_at else float("inf")
            ages.add_metric([beat.name], age)
            errors.add_metric([beat.name], 1.0 if beat.last_error else 0.0)
            if beat.name == JOB_NAME:
                lag = age
        yield ages
        yield errors
        yield _gauge(
            "kefu_sla_sweep_lag_seconds",
            "Seconds since the SLA sweep last succeeded",
            lag if lag is not None else float("inf"),
        )
        outbox = GaugeMetricFamily("kefu_mail_outbox", "Mails in the outbox by status", labels=["status"])
        counts = mail_outbox.counts()  # the one outbox every mail goes through
        for status in OutboxStatus.values:
            outbox.add_metric([status], counts.get(status, 0))
        yield outbox
        yield _gauge("kefu_queue_pending_tasks", "Background tasks waiting in the Huey queue", queue_length())


def queue_length() -> int:
    from huey.contrib.djhuey import HUEY

    return int(HUEY.pending_count())


def exposition() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_SECONDS)
        registry.register(REQUESTS)
    registry.register(StateCollector())
    return generate_latest(registry)
