"""The socket protocol, end to end through config.asgi (auth middleware, router, consumer, layer)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction

from config.asgi import application
from kefu.org.models import Province, Team
from kefu.realtime import publish, services
from kefu.realtime.models import AllowedOrigin, Event

from .conftest import frames, open_socket, send, session_headers

pytestmark = pytest.mark.django_db(transaction=True)


def run(coro_fn):
    return async_to_sync(coro_fn)()


def test_agent_joins_own_user_team_and_province_groups_and_nothing_else(online_agent, agent_sh):
    online = Team.objects.get(code="online")
    desk_sh = Team.objects.get(code="desk_sh")
    sh = Province.objects.get(slug="sh")
    bj = Province.objects.get(slug="bj")
    headers = session_headers(agent_sh.user)

    async def body():
        comm, hello = await open_socket(headers)
        assert hello == {"type": "hello", "principal": "agent"}
        allowed = [f"user.{agent_sh.user.pk}", f"team.{desk_sh.pk}", f"province.{sh.pk}", "public.faq"]
        for g in allowed:
            await send(comm, {"type": "subscribe", "group": g, "ref": g})
            (f,) = await frames(comm, 1)
            assert f["type"] == "subscribed" and f["group"] == g, f
        refused = [f"user.{online_agent.user.pk}", f"team.{online.pk}", f"province.{bj.pk}", "team.987654321"]
        answers = []
        for g in refused:
            await send(comm, {"type": "subscribe", "group": g})
            (f,) = await frames(comm, 1)
            answers.append(f)
        # one answer for "not yours" and "does not exist"
        assert all(a == answers[0] for a in answers)
        assert answers[0]["code"] == "group_refused" and answers[0]["message_en"]
        await comm.disconnect()

    run(body)


def test_anonymous_may_read_public_groups_only(agent_sh):
    team = Team.objects.get(code="desk_sh")

    async def body():
        comm, hello = await open_socket(session_headers(None))
        assert hello["principal"] == "anonymous"
        await send(comm, {"type": "subscribe", "group": "public.faq"})
        assert (await frames(comm, 1))[0]["type"] == "subscribed"
        await send(comm, {"type": "subscribe", "group": f"team.{team.pk}"})
        assert (await frames(comm, 1))[0]["code"] == "group_refused"
        await comm.disconnect()

    run(body)


def test_event_is_sent_only_after_commit_and_never_after_rollback(agent_sh):
    team = Team.objects.get(code="desk_sh")
    group = f"team.{team.pk}"

    def publish_rolled_back():
        try:
            with transaction.atomic():
                publish(group, "demo.rolled_back", {"n": 1})
                raise RuntimeError("rollback")
        except RuntimeError:
            pass

    def publish_committed():
        with transaction.atomic():
            return publish(group, "demo.committed", {"n": 2})

    headers = session_headers(agent_sh.user)

    async def body():
        comm, _ = await open_socket(headers)
        await send(comm, {"type": "subscribe", "group": group})
        assert (await frames(comm, 1))[0]["seq"] == 0
        await sync_to_async(publish_rolled_back)()
        assert await comm.receive_nothing(timeout=0.3)
        seq = await sync_to_async(publish_committed)()
        (f,) = await frames(comm, 1)
        assert f == {
            "type": "event",
            "group": group,
            "seq": seq,
            "event": "demo.committed",
            "payload": {"n": 2},
        }
        assert seq == 1  # the rolled-back event took no number
        await comm.disconnect()

    run(body)
    assert list(Event.objects.values_list("event", flat=True)) == ["demo.committed"]


def test_resume_after_reconnect_gets_missed_events_in_order_without_duplicates(agent_sh):
    group = f"user.{agent_sh.user.pk}"
    headers = session_headers(agent_sh.user)

    async def body():
        comm, _ = await open_socket(headers)
        await send(comm, {"type": "subscribe", "group": group})
        await frames(comm, 1)
        await sync_to_async(publish)(group, "n", {"i": 1})
        (first,) = await frames(comm, 1)
        assert first["seq"] == 1
        await comm.disconnect()
        for i in range(2, 6):  # published while the client is away
            await sync_to_async(publish)(group, "n", {"i": i})
        comm2, _ = await open_socket(headers)
        await send(comm2, {"type": "subscribe", "group": group, "since": 1})
        got = await frames(comm2, 5)
        assert [f["seq"] for f in got[:4]] == [2, 3, 4, 5]
        assert [f["payload"]["i"] for f in got[:4]] == [2, 3, 4, 5]
        assert got[4] == {"type": "subscribed", "group": group, "seq": 5, "reset": False, "ref": None}
        await sync_to_async(publish)(group, "n", {"i": 6})
        (live,) = await frames(comm2, 1)
        assert live["seq"] == 6
        assert await comm2.receive_nothing(timeout=0.2)
        await comm2.disconnect()

    run(body)


def test_a_gap_in_live_events_is_filled_from_the_log_in_order(agent_sh):
    """An event that arrives before an earlier one (two commits racing) is not shown out of order."""
    group = f"user.{agent_sh.user.pk}"

    headers = session_headers(agent_sh.user)

    async def body():
        comm, _ = await open_socket(headers)
        await send(comm, {"type": "subscribe", "group": group})
        await frames(comm, 1)

        # store two events without sending, then send only the second one
        def store_two():
            with transaction.atomic():
                a = services.publish(group, "n", {"i": 1})
                b = services.publish(group, "n", {"i": 2})
            return a, b

        from unittest import mock

        with mock.patch.object(services, "send_now"):
            await sync_to_async(store_two)()
        frame2 = {"type": "event", "group": group, "seq": 2, "event": "n", "payload": {"i": 2}}
        await sync_to_async(services.send_now)(
            services.layer_group(group), {"type": "rt.event", "frame": frame2}
        )
        got = await frames(comm, 2)
        assert [f["seq"] for f in got] == [1, 2]
        # the late first event is then dropped as a duplicate
        frame1 = {"type": "event", "group": group, "seq": 1, "event": "n", "payload": {"i": 1}}
        await sync_to_async(services.send_now)(
            services.layer_group(group), {"type": "rt.event", "frame": frame1}
        )
        assert await comm.receive_nothing(timeout=0.2)
        await comm.disconnect()

    run(body)


def test_resume_from_a_pruned_position_says_reset(agent_sh):
    group = f"user.{agent_sh.user.pk}"
    for i in range(3):
        publish(group, "n", {"i": i})
    Event.objects.filter(seq__lte=2).delete()
    headers = session_headers(agent_sh.user)

    async def body():
        comm, _ = await open_socket(headers)
        await send(comm, {"type": "subscribe", "group": group, "since": 0})
        (f,) = await frames(comm, 1)
        assert f["type"] == "subscribed" and f["reset"] is True and f["seq"] == 3
        await comm.disconnect()

    run(body)


def test_bad_frames_get_error_frames_and_others_keep_being_served(agent_sh):
    group = f"user.{agent_sh.user.pk}"
    headers = session_headers(agent_sh.user)

    async def body():
        bystander, _ = await open_socket(headers, address="10.0.0.2")
        await send(bystander, {"type": "subscribe", "group": group})
        await frames(bystander, 1)

        comm, _ = await open_socket(headers)
        await comm.send_to(text_data="{not json")
        (f,) = await frames(comm, 1)
        assert f["code"] == "bad_json" and f["message"] and f["message_en"]
        await send(comm, {"no": "type"})
        assert (await frames(comm, 1))[0]["code"] == "bad_frame"
        await send(comm, {"type": "nosuch.thing", "ref": "x1"})
        f = (await frames(comm, 1))[0]
        assert f["code"] == "bad_frame" and f["ref"] == "x1"
        await send(comm, {"type": "subscribe", "group": "../etc"})
        assert (await frames(comm, 1))[0]["code"] == "bad_group"
        await send(comm, {"type": "subscribe", "group": group, "since": -1})
        assert (await frames(comm, 1))[0]["code"] == "bad_since"
        await comm.send_to(text_data="x" * (16 * 1024 + 1))
        assert (await frames(comm, 1))[0]["code"] == "frame_too_large"
        assert (await comm.receive_output())["type"] == "websocket.close"

        comm2, _ = await open_socket(headers)
        await comm2.send_to(bytes_data=b"\xff\xfe binary")
        assert (await frames(comm2, 1))[0]["code"] == "binary_frame"
        out = await comm2.receive_output()
        assert out == {"type": "websocket.close", "code": 1003}

        await sync_to_async(publish)(group, "still", {})
        assert (await frames(bystander, 1))[0]["event"] == "still"
        await bystander.disconnect()

    run(body)


def test_a_frame_flood_is_refused_then_closed(agent_sh):
    headers = session_headers(agent_sh.user)

    async def body():
        comm, _ = await open_socket(headers)
        for _ in range(20):
            await send(comm, {"type": "ping"})
        assert all(f == {"type": "pong"} for f in await frames(comm, 20))
        codes = []
        for _ in range(3):
            await send(comm, {"type": "ping"})
            codes.append((await frames(comm, 1))[0]["code"])
        assert codes == ["rate_limited"] * 3
        assert await comm.receive_output() == {"type": "websocket.close", "code": 4429}

    run(body)


def test_connection_flood_from_one_address_is_refused(settings, agent_sh):
    settings.KEFU_WS_MAX_PER_ADDRESS = 3

    async def body():
        opened = [(await open_socket(session_headers(None), address="10.9.9.9"))[0] for _ in range(3)]
        extra = WebsocketCommunicator(application, "/ws/rt/", headers=session_headers(None))
        extra.scope["client"] = ("10.9.9.9", 1)
        connected, code = await extra.connect()
        assert not connected and code == 4429
        other, hello = await open_socket(session_headers(None), address="10.9.9.10")
        assert hello["principal"] == "anonymous"
        for c in [*opened, other]:
            await c.disconnect()

    run(body)


def test_foreign_origin_is_refused_and_an_embedding_origin_gets_no_session(agent_sh):
    AllowedOrigin.objects.create(origin="https://www.partner.example.cn")
    evil_headers = session_headers(agent_sh.user, "https://evil.example.com")
    partner_headers = session_headers(agent_sh.user, "https://www.partner.example.cn")

    async def body():
        evil = WebsocketCommunicator(application, "/ws/rt/", headers=evil_headers)
        evil.scope["client"] = ("10.0.0.3", 1)
        connected, code = await evil.connect()
        assert not connected and code == 4403
        comm, hello = await open_socket(partner_headers)
        assert hello["principal"] == "anonymous"  # the cookie is ignored for an embedding page
        await comm.disconnect()

    run(body)


def test_visitor_token_grants_exactly_its_groups_and_dies_on_revoke():
    token, raw = services.visitor_token_issue(
        purpose="test", groups_allowed=["user.1"], ttl=timedelta(hours=1)
    )
    _other, other_raw = services.visitor_token_issue(
        purpose="test", groups_allowed=["user.2"], ttl=timedelta(hours=1)
    )

    async def body():
        comm, _ = await open_socket(session_headers(None))
        await send(comm, {"type": "auth", "token": raw})
        (hello,) = await frames(comm, 1)
        assert hello["principal"] == "visitor" and hello["groups"] == ["user.1"]
        await send(comm, {"type": "subscribe", "group": "user.1"})
        assert (await frames(comm, 1))[0]["type"] == "subscribed"
        await send(comm, {"type": "subscribe", "group": "user.2"})
        assert (await frames(comm, 1))[0]["code"] == "group_refused"
        await sync_to_async(services.visitor_token_revoke)(token_id=token.pk)
        (f,) = await frames(comm, 1)
        assert f["code"] == "token_revoked"
        assert await comm.receive_output() == {"type": "websocket.close", "code": 4401}

        comm2, _ = await open_socket(session_headers(None))
        await send(comm2, {"type": "auth", "token": raw})  # revoked
        assert (await frames(comm2, 1))[0]["code"] == "token_invalid"
        assert (await comm2.receive_output())["code"] == 4401
        comm3, _ = await open_socket(session_headers(None))
        await send(comm3, {"type": "auth", "token": "x" * 40})  # never issued
        assert (await frames(comm3, 1))[0]["code"] == "token_invalid"
        await comm3.receive_output()
        assert other_raw != raw

    run(body)


def test_relay_carries_events_stored_by_another_process_to_sockets_here(settings, agent_sh):
    """In-memory layer: an event published by gunicorn or the worker reaches daphne's sockets through the relay."""
    from unittest import mock

    from kefu.realtime import relay

    settings.KEFU_RT_RELAY = True
    settings.KEFU_RT_RELAY_INTERVAL = 0.05
    group = f"user.{agent_sh.user.pk}"
    headers = session_headers(agent_sh.user)

    async def body():
        comm, _ = await open_socket(headers)
        await send(comm, {"type": "subscribe", "group": group})
        await frames(comm, 1)
        with mock.patch.object(services, "send_now"):  # "another process": its group_send reaches nobody here
            await sync_to_async(publish)(group, "from.elsewhere", {"x": 1})
        (f,) = await frames(comm, 1)
        assert f["event"] == "from.elsewhere" and f["seq"] == 1
        await sync_to_async(publish)(group, "local", {})  # sent directly and relayed: shown once
        (g,) = await frames(comm, 1)
        assert g["seq"] == 2
        assert await comm.receive_nothing(timeout=0.3)
        await comm.disconnect()
        if relay._task is not None:
            relay._task.cancel()
            relay._task = None

    run(body)
