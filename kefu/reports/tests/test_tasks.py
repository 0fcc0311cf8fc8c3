"""The Huey jobs run the services and leave a heartbeat; schedules are in UTC (08:30 Beijing on the 1st)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from kefu.core.models import JobHeartbeat
from kefu.org.models import Unit
from kefu.reports import months, tasks
from kefu.reports.models import MailStatus, MonthlyCount, OutboundMail, Recipient

from .factories import ticket

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.django_db
def test_rollup_job_and_heartbeat():
    ticket(slug="js", at=timezone.now() - timedelta(days=3))
    assert tasks.reports_rollup.call_local() == {"cells": 1, "writes": 1}
    assert tasks.reports_rollup.call_local() == {"cells": 0, "writes": 0}
    assert JobHeartbeat.objects.get(name="reports.rollup").last_summary == {"cells": 0, "writes": 0}
    assert MonthlyCount.objects.unscoped("test").count() == 1


@pytest.mark.django_db
def test_monthly_mail_job_sends_last_month_once(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Recipient.objects.create(unit=Unit.objects.get(code="hq_service"), name="HQ", email="hq@example.cn")
    first = tasks.reports_monthly_mail.call_local()
    second = tasks.reports_monthly_mail.call_local()
    assert (first["created"], first["sent"]) == (1, 1) and (second["created"], second["sent"]) == (0, 0)
    assert len(mail.outbox) == 1
    row = OutboundMail.objects.get()
    assert row.month == months.previous_month(timezone.now()) and row.status == MailStatus.SENT
    assert tasks.reports_outbox.call_local()["sent"] == 0


def due(task, moment):
    return task.task_class().validate_datetime(moment)


def test_schedules():
    # 00:30 UTC on the 1st is 08:30 on the 1st in Beijing.
    first_utc = datetime(2026, 11, 1, 0, 30)
    assert due(tasks.reports_monthly_mail, first_utc)
    assert not due(tasks.reports_monthly_mail, first_utc + timedelta(days=1))
    assert datetime(2026, 11, 1, 0, 30, tzinfo=ZoneInfo("UTC")).astimezone(SH).hour == 8
    assert due(tasks.reports_rollup, datetime(2026, 11, 3, 10, 5))
    assert not due(tasks.reports_rollup, datetime(2026, 11, 3, 10, 6))
