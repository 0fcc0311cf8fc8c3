from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from kefu.org.models import Role, Team

from .. import services


@pytest.fixture
def hotline_lead(make_actor):
    return make_actor("hotline_lead", "hotline", Role.SUPERVISOR)


@pytest.fixture
def kb_author(make_actor):
    return make_actor("kb_author", "knowledge", Role.KB_AUTHOR)


@pytest.fixture
def hq_mailbox(db):
    Team.objects.filter(code="hq_service").update(email="hq-service@example.cn")
    Team.objects.filter(code="desk_js").update(email="desk-js@example.cn")
    return "hq-service@example.cn"


def declare(actor: Any, *, slugs: tuple[str, ...] = ("js", "sh"), now: datetime | None = None, **kw: Any):
    now = now or timezone.now()
    fields: dict[str, Any] = {
        "title": "云平台会议服务中断",
        "services": "会议入会、终端登录",
        "symptoms": "终端无法入会，提示网络错误",
        "impact": "P1",
        "started_at": now - timedelta(minutes=30),
        "detected_at": now - timedelta(minutes=20),
        "province_slugs": slugs,
        "measures": "已切换备用集群",
    }
    fields.update(kw)
    return services.incident_declare(actor=actor, now=now, **fields)
