"""The live push, end to end through config.asgi: declared, relayed and resolved incidents reach the
affected desks' sockets and the public FAQ visitor; a desk of a province not affected hears nothing."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.core.cache import cache

from kefu.org.models import Role, Team
from kefu.realtime import consumers
from kefu.realtime.tests.conftest import frames, open_socket, send, session_headers

from .. import services
from .conftest import declare

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    consumers._open_per_address.clear()
    yield
    cache.clear()


async def _subscribed(headers, group: str, address: str):
    comm, _hello = await open_socket(headers, address=address)
    await send(comm, {"type": "subscribe", "group": group})
    (f,) = await frames(comm, 1)
    assert f["type"] == "subscribed", f
    return comm


def test_banner_reaches_affected_desks_and_the_faq_not_other_provinces(hotline_lead, agent_js, make_actor):
    agent_gd = make_actor("agent_gd", "desk_gd", Role.AGENT)
    hq = make_actor("hq_live", "hq_service", Role.KB_PUBLISHER)
    js_group = f"team.{Team.objects.get(code='desk_js').pk}"
    gd_group = f"team.{Team.objects.get(code='desk_gd').pk}"
    js_headers, gd_headers = session_headers(agent_js.user), session_headers(agent_gd.user)

    async def body():
        js = await _subscribed(js_headers, js_group, "10.0.0.1")
        gd = await _subscribed(gd_headers, gd_group, "10.0.0.2")
        faq = await _subscribed(session_headers(None), "public.faq", "10.0.0.3")

        inc = await sync_to_async(declare)(hotline_lead, slugs=("js", "sh"))
        (f,) = await frames(js, 1)
        assert (f["event"], f["group"]) == ("incidents.banner", js_group)
        assert f["payload"]["number"] == inc.number and f["payload"]["open"] is True
        assert f["payload"]["version"] is None  # declared, no bulletin yet
        # No bulletin yet: the public hears nothing (the customer script is HQ's to approve).
        assert await faq.receive_nothing(timeout=0.3)

        await sync_to_async(services.bulletin_issue)(
            actor=hq,
            incident=inc,
            customer_script="平台故障，正在抢修，请稍候。",
            agent_guidance="登记为突发事件并关联",
        )
        (f,) = await frames(js, 1)
        assert f["payload"]["version"] == 1
        assert f["payload"]["script"] == "平台故障，正在抢修，请稍候。"
        assert f["payload"]["guidance"] == "登记为突发事件并关联"
        (n,) = await frames(faq, 1)
        assert n["event"] == "incidents.banner" and n["group"] == "public.faq"
        assert n["payload"] == {
            "key": inc.number,
            "title": inc.title,
            "status_label": "调查中",
            "open": True,
            "script": "平台故障，正在抢修，请稍候。",
        }  # the customer script only, never the agents' guidance

        await sync_to_async(services.incident_set_status)(
            actor=hotline_lead, incident=inc, status="resolved", resolution_text="已恢复"
        )
        (f,) = await frames(js, 1)
        assert f["payload"]["open"] is False and f["payload"]["status"] == "resolved"
        (n,) = await frames(faq, 1)
        assert n["payload"]["open"] is False

        # Guangdong is not affected: its desk heard none of the three changes.
        assert await gd.receive_nothing(timeout=0.3)
        for comm in (js, gd, faq):
            await comm.disconnect()

    async_to_sync(body)()
