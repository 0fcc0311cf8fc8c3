from __future__ import annotations

from datetime import time

import pytest
from django.core.cache import cache

from kefu.chat.models import ChatSettings, Presence
from kefu.realtime import consumers
from kefu.sla.models import ServiceCalendar, ServiceHours


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    consumers._open_per_address.clear()
    yield
    cache.clear()


@pytest.fixture
def always_open(db):
    """Service hours round the clock, so that tests do not depend on the time they run at."""
    cal = ServiceCalendar.objects.create(code="always", name="always")
    for w in range(7):
        ServiceHours.objects.create(calendar=cal, weekday=w, opens=time(0, 0), closes=time(0, 0))
    s = ChatSettings.objects.get()
    s.calendar = cal
    s.save()
    return s


@pytest.fixture
def on_duty(always_open, online_agent):
    Presence.objects.create(user=online_agent.user, status=Presence.Status.ONLINE)
    return online_agent
