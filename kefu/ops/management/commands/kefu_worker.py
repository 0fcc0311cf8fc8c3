"""Run a background worker, or the one scheduler that enqueues the periodic jobs.

    manage.py kefu_worker               consume tasks only (run as many as you like)
    manage.py kefu_worker --scheduler   also enqueue the periodic jobs: exactly one per installation

Why a wrapper around ``run_huey``: two schedulers would enqueue every periodic job
twice (harmless, since each job runs under its lease, but twice the work), so the
scheduler holds the lease ``huey.scheduler`` for as long as it lives and a second
one is refused; and a worker pointed at a Redis it cannot reach must say so and
stop at once instead of retrying in silence.
"""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from kefu.core.jobs import holder_id, lease_acquire, lease_release

SCHEDULER_LEASE = "huey.scheduler"
LEASE_TTL = 60.0


def check_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except Exception as exc:
        raise CommandError(f"无法连接 Redis({url}):{exc} / cannot reach Redis at {url}: {exc}") from exc


class Command(BaseCommand):
    help = "后台任务进程(--scheduler 另负责定时任务,全系统只能一个) / Background worker; --scheduler also enqueues periodic jobs (one per installation)"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--scheduler", action="store_true", help="also enqueue the periodic jobs")
        parser.add_argument("--workers", type=int, default=int(os.environ.get("HUEY_WORKERS", 2)))

    def handle(self, *args: Any, **options: Any) -> None:
        url = os.environ.get("HUEY_REDIS_URL")
        if url:
            check_redis(url)
        holder = holder_id()
        stop = threading.Event()
        if options["scheduler"]:
            if not lease_acquire(SCHEDULER_LEASE, ttl=LEASE_TTL, holder=holder):
                from kefu.core.models import JobLease

                other = JobLease.objects.filter(name=SCHEDULER_LEASE).values_list("holder", flat=True).first()
                raise CommandError(
                    f"已有调度进程在运行({other}),拒绝启动第二个 / "
                    f"a scheduler is already running ({other}); refusing to start a second one"
                )
            threading.Thread(
                target=self._renew, args=(holder, stop), daemon=True, name="scheduler-lease"
            ).start()
        try:
            # verbose=False: warnings and errors only (what run_huey --quiet gave the quick start)
            call_command("run_huey", workers=options["workers"], periodic=options["scheduler"], verbose=False)
        finally:
            stop.set()
            if options["scheduler"]:
                lease_release(SCHEDULER_LEASE, holder=holder)

    @staticmethod
    def _renew(holder: str, stop: threading.Event) -> None:
        from django.db import connection
        from django.utils import timezone

        from kefu.core.models import JobLease

        while not stop.wait(LEASE_TTL / 3):
            JobLease.objects.filter(name=SCHEDULER_LEASE, holder=holder).update(
                expires_at=timezone.now() + timedelta(seconds=LEASE_TTL)
            )
            connection.close()
