"""Chat over the shared socket (config.asgi, Channels' communicator): visitor and agent side by side."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync

from kefu.chat.models import Conversation, Message
from kefu.realtime.tests.conftest import frames, open_socket, send, session_headers

pytestmark = pytest.mark.django_db(transaction=True)


def run(fn):
    return async_to_sync(fn)()


async def until(comm, predicate, limit: int = 20):
    """Read frames until one matches (other frames, such as subscribed or queue events, are skipped)."""
    for _ in range(limit):
        f = json.loads(await comm.receive_from(timeout=10))  # generous: the machine is shared
        if predicate(f):
            return f
    raise AssertionError("frame not received")


def reply_to(ref):
    return lambda f: f.get("ref") == ref and f["type"] in ("reply", "error")


def test_visitor_and_agent_converse_with_greeting_dedup_and_order(on_duty):
    agent_headers = session_headers(on_duty.user)
    team_id = on_duty.seats[0].team_id

    async def body():
        agent, hello = await open_socket(agent_headers, address="10.0.0.9")
        assert hello["principal"] == "agent"
        await send(agent, {"type": "subscribe", "group": f"team.{team_id}"})
        await frames(agent, 1)

        visitor, hello = await open_socket(session_headers(None), address="10.0.0.8")
        await send(
            visitor, {"type": "chat.start", "ref": "s", "name": "王先生", "unit": "某某局", "text": "你好"}
        )
        started = await until(visitor, reply_to("s"))
        assert started["ok"] is True
        conv, token, group = (
            started["data"]["conversation"],
            started["data"]["token"],
            started["data"]["group"],
        )
        queued = await until(agent, lambda f: f.get("event") == "chat.queue")
        assert queued["payload"]["conversation"]["id"] == conv and queued["payload"]["what"] == "waiting"

        await send(visitor, {"type": "auth", "token": token})
        await until(visitor, lambda f: f["type"] == "hello")
        await send(visitor, {"type": "subscribe", "group": group, "since": 1})
        await until(visitor, lambda f: f["type"] == "subscribed")

        await send(agent, {"type": "subscribe", "group": group, "since": 0})
        first = await until(agent, lambda f: f["type"] == "event")
        assert first["seq"] == 1 and first["payload"]["text"] == "你好"
        await send(agent, {"type": "chat.accept", "ref": "a", "conversation": conv})
        assert (await until(agent, reply_to("a")))["ok"]
        greeting = await until(visitor, lambda f: f.get("event") == "chat.message")
        assert greeting["seq"] == 2 and greeting["payload"]["kind"] == "greeting"

        # the visitor's client resends after a timeout: stored once, same seq in both answers
        for ref in ("m1", "m1-retry"):
            await send(
                visitor,
                {
                    "type": "chat.send",
                    "ref": ref,
                    "conversation": conv,
                    "text": "怎么入会？",
                    "client_id": "c-1",
                },
            )
        r1 = await until(visitor, reply_to("m1"))
        r2 = await until(visitor, reply_to("m1-retry"))
        assert r1["data"]["seq"] == r2["data"]["seq"] == 3
        got = await until(agent, lambda f: f.get("event") == "chat.message" and f["seq"] == 3)
        assert got["payload"]["sender"] == "visitor"

        # a banned phrase is an error frame with the reason; nothing reaches the visitor
        await send(
            agent,
            {"type": "chat.send", "ref": "bad", "conversation": conv, "text": "你烦不烦", "client_id": "a-1"},
        )
        refused = await until(agent, reply_to("bad"))
        assert (
            refused["type"] == "error"
            and refused["code"] == "norms_blocked"
            and refused["details"]["hits"][0]["suggestion"]
        )
        await send(
            agent,
            {
                "type": "chat.send",
                "ref": "ok",
                "conversation": conv,
                "text": "您可以点击加入会议。",
                "client_id": "a-2",
            },
        )
        assert (await until(agent, reply_to("ok")))["data"]["seq"] == 4
        answer = await until(visitor, lambda f: f.get("event") == "chat.message")
        assert answer["seq"] == 4 and answer["payload"]["text"] == "您可以点击加入会议。"

        for c in (agent, visitor):
            await c.disconnect()
        return conv

    conv = run(body)
    assert list(Message.objects.filter(conversation_id=conv).values_list("seq", "sender")) == [
        (1, "visitor"),
        (2, "agent"),
        (3, "visitor"),
        (4, "agent"),
    ]


def test_reconnecting_visitor_gets_what_it_missed_in_order(on_duty):
    from kefu.chat import services

    c, raw = services.conversation_start(name="访客", text="在吗")
    services.conversation_accept(actor=on_duty, conversation_id=c.pk)
    for i in range(3):
        services.agent_send(actor=on_duty, conversation_id=c.pk, text=f"第{i}条回复", client_id=f"a{i}")

    async def body():
        v, _ = await open_socket(session_headers(None))
        await send(v, {"type": "auth", "token": raw})
        await until(v, lambda f: f["type"] == "hello")
        await send(
            v, {"type": "subscribe", "group": c.group, "since": 2}
        )  # saw the question and the greeting
        got = [await until(v, lambda f: f["type"] == "event") for _ in range(3)]
        assert [f["seq"] for f in got] == [3, 4, 5]
        assert [f["payload"]["text"] for f in got] == ["第0条回复", "第1条回复", "第2条回复"]
        sub = await until(v, lambda f: f["type"] == "subscribed")
        assert sub["seq"] == 5 and sub["reset"] is False
        await v.disconnect()

    run(body)


def test_a_token_reads_only_its_own_conversation_and_dies_with_it(on_duty, agent_sh):
    from kefu.chat import services

    a, raw_a = services.conversation_start(name="甲", text="问题甲")
    b, _raw_b = services.conversation_start(name="乙", text="问题乙")
    sh_headers = session_headers(agent_sh.user)

    async def body():
        v, _ = await open_socket(session_headers(None))
        await send(v, {"type": "auth", "token": raw_a})
        await until(v, lambda f: f["type"] == "hello")
        await send(v, {"type": "subscribe", "group": b.group})
        assert (await until(v, lambda f: f["type"] == "error"))["code"] == "group_refused"
        await send(v, {"type": "chat.state", "ref": "x", "conversation": b.pk})
        denied = await until(v, reply_to("x"))
        await send(v, {"type": "chat.state", "ref": "y", "conversation": 987654321})
        missing = await until(v, reply_to("y"))
        assert denied["code"] == missing["code"] == "not_found" and denied["message"] == missing["message"]
        await send(
            v, {"type": "chat.send", "ref": "z", "conversation": b.pk, "text": "越权", "client_id": "q"}
        )
        assert (await until(v, reply_to("z")))["code"] == "not_found"

        # a province desk agent sees nothing of the online team's conversations
        d, _ = await open_socket(sh_headers, address="10.0.0.5")
        await send(d, {"type": "subscribe", "group": a.group})
        assert (await until(d, lambda f: f["type"] == "error"))["code"] == "group_refused"
        await send(d, {"type": "chat.accept", "ref": "acc", "conversation": a.pk})
        assert (await until(d, reply_to("acc")))["code"] == "not_found"
        # visitors may not act as agents
        await send(v, {"type": "chat.accept", "ref": "va", "conversation": a.pk})
        assert (await until(v, reply_to("va")))["code"] == "unauthorized"

        await send(v, {"type": "chat.leave", "ref": "bye", "conversation": a.pk})
        assert (await until(v, reply_to("bye")))["data"]["status"] == "abandoned"
        revoked = await until(v, lambda f: f["type"] == "error")
        assert revoked["code"] == "token_revoked"
        for c in (v, d):
            await c.disconnect()

    run(body)
    assert Message.objects.filter(conversation=b).count() == 1
    assert Conversation.objects.get(pk=a.pk).status == "abandoned"
