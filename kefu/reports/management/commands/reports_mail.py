"""Send the monthly report mail now: ``manage.py reports_mail [--month 2026-10]`` (default: last month).

Idempotent: a recipient already mailed for that month is not mailed again.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from kefu.reports import months, services


class Command(BaseCommand):
    help = "生成并发送月报表邮件(默认上月)；已发送的收件人不会重复发送"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--month", default="", help="YYYY-MM")
        parser.add_argument("--retry-failed", action="store_true", help="先把发送失败的邮件重新排队")

    def handle(self, *args: Any, **opts: Any) -> None:
        now = timezone.now()
        month = months.parse_month(opts["month"], default=months.previous_month(now))
        if opts["retry_failed"]:  # through the outbox's retry service (audited), never by updating rows
            requeued = services.mail_retry(actor=None, mail_ids=None, now=now, month=month)
            self.stdout.write(f"requeued={requeued}")
        created, result = services.mail_month_now(actor=None, month=month, now=now)
        self.stdout.write(
            f"month={months.key(month)} created={created} "
            + " ".join(f"{k}={v}" for k, v in result.as_dict().items())
        )
        for err in result.errors:
            self.stderr.write(err)
