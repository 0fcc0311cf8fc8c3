"""Calendars and policies are edited in admin: input that would break every clock is refused there, not a 500 later."""

from __future__ import annotations

from datetime import time

import pytest
from django.core.exceptions import ValidationError

from kefu.sla.models import Policy, ServiceCalendar, ServiceHours

pytestmark = pytest.mark.django_db


def test_a_misspelt_time_zone_is_refused():
    calendar = ServiceCalendar(code="typo", name="拼错时区", timezone="Asia/Shangai")
    with pytest.raises(ValidationError) as err:
        calendar.full_clean()
    assert "timezone" in err.value.message_dict


@pytest.mark.parametrize(
    ("opens", "closes", "ok"),
    [
        (time(8), time(20), True),
        (time(8), time(0), True),
        (time(20), time(8), False),
        (time(9), time(9), False),
    ],
)
def test_service_hours_close_after_they_open(opens, closes, ok):
    calendar = ServiceCalendar.objects.get(code="7x12")
    hours = ServiceHours(calendar=calendar, weekday=0, opens=opens, closes=closes)
    if ok:
        hours.clean()
    else:
        with pytest.raises(ValidationError) as err:
            hours.clean()
        assert "closes" in err.value.message_dict


@pytest.mark.parametrize("statuses", ["waiting_customer", {"a": 1}, [1], [""]])
def test_pause_statuses_must_be_a_list_of_codes(statuses):
    policy = Policy.objects.get(code="complaint-desk-resolve")
    policy.pause_statuses = statuses
    with pytest.raises(ValidationError) as err:
        policy.full_clean()
    assert "pause_statuses" in err.value.message_dict


def test_on_time_target_is_a_percentage():
    policy = Policy.objects.get(code="complaint-desk-resolve")
    policy.on_time_target = 150
    with pytest.raises(ValidationError) as err:
        policy.full_clean()
    assert "on_time_target" in err.value.message_dict
    policy.on_time_target = 98
    policy.full_clean()


def test_admin_shows_the_error_instead_of_saving(client, admin_actor):
    client.force_login(admin_actor.user)
    calendar = ServiceCalendar.objects.get(code="7x12")
    response = client.post(
        f"/admin/sla/servicecalendar/{calendar.pk}/change/",
        {
            "code": "7x12",
            "name": calendar.name,
            "timezone": "Mars/Olympus",
            "hours-TOTAL_FORMS": "0",
            "hours-INITIAL_FORMS": "0",
            "hours-MIN_NUM_FORMS": "0",
            "hours-MAX_NUM_FORMS": "7",
        },
    )
    assert response.status_code == 200
    assert "未知时区" in response.content.decode()
    calendar.refresh_from_db()
    assert calendar.timezone == "Asia/Shanghai"


def test_admin_keeps_at_least_one_open_weekday(client, admin_actor):
    client.force_login(admin_actor.user)
    calendar = ServiceCalendar.objects.get(code="7x12")
    hours = list(calendar.hours.order_by("weekday"))
    data = {
        "code": "7x12",
        "name": calendar.name,
        "timezone": "Asia/Shanghai",
        "hours-TOTAL_FORMS": str(len(hours)),
        "hours-INITIAL_FORMS": str(len(hours)),
        "hours-MIN_NUM_FORMS": "0",
        "hours-MAX_NUM_FORMS": "7",
    }
    for i, h in enumerate(hours):
        data.update(
            {
                f"hours-{i}-id": str(h.pk),
                f"hours-{i}-calendar": str(calendar.pk),
                f"hours-{i}-weekday": str(h.weekday),
                f"hours-{i}-opens": "08:00",
                f"hours-{i}-closes": "20:00",
                f"hours-{i}-DELETE": "on",
            }
        )
    response = client.post(f"/admin/sla/servicecalendar/{calendar.pk}/change/", data)
    assert response.status_code == 200
    assert "至少需要一天的服务时段" in response.content.decode()
    assert calendar.hours.count() == 7
