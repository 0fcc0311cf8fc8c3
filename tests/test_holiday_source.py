"""Holidays and 调休 from chinese_calendar into the table the SLA math reads; an alarm when next year is missing."""

from datetime import date

import chinese_calendar
import pytest
from django.test import Client

from kefu.core.models import AuditEvent, OutboxMail
from kefu.sla import holiday_source
from kefu.sla.models import Holiday

pytestmark = pytest.mark.django_db

LAST = max(holiday_source.package_years())


def test_refresh_writes_exactly_the_package_for_covered_years_and_leaves_others_alone():
    Holiday.objects.filter(date__year=LAST).delete()
    Holiday.objects.create(date=date(LAST, 3, 3), kind="off", name="多余的一天")  # not in the notice
    provisional = Holiday.objects.filter(date__year=LAST + 1).count()
    result = holiday_source.refresh(since_year=LAST)
    rows = {h.date: h.kind for h in Holiday.objects.filter(date__year=LAST)}
    package = {d for d in chinese_calendar.constants.holidays if d.year == LAST}
    workdays = {d for d in chinese_calendar.constants.workdays if d.year == LAST}
    assert {d for d, k in rows.items() if k == "off"} == package
    assert {d for d, k in rows.items() if k == "workday"} == workdays
    assert date(LAST, 3, 3) not in rows and result["removed"] == 1
    assert result["created"] == len(package) + len(workdays)
    assert Holiday.objects.filter(date__year=LAST + 1).count() == provisional  # not covered: untouched
    assert AuditEvent.objects.filter(verb="sla.holiday_synced").count() == result["created"] + 1
    assert holiday_source.refresh(since_year=LAST) == {"years": 1, "created": 0, "changed": 0, "removed": 0}


def test_the_sla_calendar_sees_a_synced_workday():
    from kefu.sla.calendars import spec_for
    from kefu.sla.models import ServiceCalendar

    holiday_source.refresh(since_year=LAST)
    calendar = ServiceCalendar.objects.filter(observes_holidays=True).first()
    spec = spec_for(calendar)
    some_workday = min(d for d in chinese_calendar.constants.workdays if d.year == LAST)
    assert some_workday in spec.workdays


def test_next_year_missing_is_alarmed_from_november_once_by_mail():
    nxt = LAST + 1
    assert holiday_source.missing_year(date(LAST, 6, 1)) is None  # too early to expect the notice
    assert holiday_source.missing_year(date(LAST, 12, 3)) == nxt  # provisional rows do not count
    assert holiday_source.alert_if_missing(date(LAST, 12, 3), ["hq@example.cn"]) == nxt
    assert holiday_source.alert_if_missing(date(LAST, 12, 4), ["hq@example.cn"]) == nxt
    assert OutboxMail.objects.filter(purpose=holiday_source.MISSING_MAIL, key=str(nxt)).count() == 1
    Holiday.objects.create(
        date=date(nxt, 1, 2), kind="workday", name="元旦调休"
    )  # the notice typed in by hand
    assert holiday_source.missing_year(date(LAST, 12, 3)) is None


def test_readiness_names_the_missing_calendar_as_an_advisory(monkeypatch):
    monkeypatch.setattr(holiday_source, "missing_year", lambda today: 2099)
    body = Client().get("/readyz").json()
    assert "calendar" in body["behind"] and body["errors"]["calendar"] == "no holidays for 2099"
