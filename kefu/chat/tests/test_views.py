from __future__ import annotations

import pytest
from django.test import Client

from kefu.chat import services
from kefu.realtime.models import AllowedOrigin

pytestmark = pytest.mark.django_db


def test_console_lists_waiting_visitors_of_the_own_team_only(on_duty, agent_sh):
    c, _ = services.conversation_start(name="排队的王先生")
    client = Client()
    client.force_login(on_duty.user)
    page = client.get("/chat/console/")
    assert page.status_code == 200 and "排队的王先生" in page.content.decode()
    assert (
        "ws://testserver" in page["Content-Security-Policy"]
        or "connect-src 'self'" in page["Content-Security-Policy"]
    )
    other = Client()
    other.force_login(agent_sh.user)  # a desk agent holds chat.work but sees only their own team's queue
    assert "排队的王先生" not in other.get("/chat/console/queue/").content.decode()
    assert c.pk


def test_console_needs_chat_work(hq_analyst):
    client = Client()
    client.force_login(hq_analyst.user)
    assert client.get("/chat/console/").status_code == 403


def test_visit_page_is_public_and_frameable_only_by_allowed_sites():
    AllowedOrigin.objects.create(origin="https://www.partner.example.cn")
    r = Client().get("/chat/visit/")
    assert r.status_code == 200
    csp = r["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://www.partner.example.cn" in csp
    assert 'id="kefu-rt-config"' in r.content.decode()
