"""The message path: what a message costs in SQL, and that the cheap path keeps every guarantee
(stored before acknowledged, one message per client id, one sequence per conversation, the same
refusals), plus the learning loop of a chat citation."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.chat import services
from kefu.chat.models import Conversation, Message
from kefu.core.errors import Conflict, NotFound
from kefu.knowledge import services as kb
from kefu.knowledge.models import SimilarQuestion
from kefu.knowledge.tests.conftest import content
from kefu.org.models import Role
from kefu.realtime import services as rt
from kefu.realtime.models import Event

pytestmark = pytest.mark.django_db


def _start(agent, text="你好"):
    c, _ = services.conversation_start(name="王先生", unit="某某局", text=text)
    services.conversation_accept(actor=agent, conversation_id=c.pk)
    return c


def _visitor(c, text="请问怎么入会", cid="v-1"):
    return services.visitor_send(
        groups=frozenset({c.group}), token_id=c.token_id, conversation_id=c.pk, text=text, client_id=cid
    )


def _statements(ctx) -> list[str]:
    """The statements run, without the savepoints of the test's own transaction."""
    return [
        q["sql"].split()[0].upper() + " " + _table(q["sql"])
        for q in ctx.captured_queries
        if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))
    ]


def _table(sql: str) -> str:
    """The table written, or the outermost table read (its FROM comes after any subquery's)."""
    words = sql.replace('"', "").split()
    for key in ("INTO", "UPDATE"):
        if key in words:
            return words[words.index(key) + 1]
    return words[len(words) - 1 - words[::-1].index("FROM") + 1] if "FROM" in words else ""


@pytest.fixture
def shared_layer(monkeypatch):
    """As under Redis: every process publishes into one layer, so nothing is copied for the relay."""
    monkeypatch.setattr(rt, "layer_is_shared", lambda: True)


def test_a_visitor_message_is_one_update_and_one_insert(on_duty, shared_layer):
    c = _start(on_duty)
    with CaptureQueriesContext(connection) as ctx:
        m = _visitor(c)
    assert _statements(ctx) == ["UPDATE chat_conversation", "INSERT chat_message"]
    c.refresh_from_db()
    assert (m.seq, c.last_seq, c.visitor_asked) == (3, 3, True)
    assert c.last_visitor_at == m.created_at


def test_under_the_in_memory_layer_the_relay_still_gets_its_copy(on_duty):
    c = _start(on_duty)
    with CaptureQueriesContext(connection) as ctx:
        m = _visitor(c)
    assert _statements(ctx) == ["UPDATE chat_conversation", "INSERT chat_message", "INSERT realtime_event"]
    assert Event.objects.filter(group=c.group, seq=m.seq, event="chat.message").count() == 1


def test_an_agent_message_reads_once_then_updates_and_inserts(on_duty, shared_layer):
    c = _start(on_duty)
    _visitor(c)
    services.agent_send(actor=on_duty, conversation_id=c.pk, text="您好，请稍等。", client_id="a-0")
    with CaptureQueriesContext(connection) as ctx:
        m = services.agent_send(
            actor=on_duty, conversation_id=c.pk, text="您可以在客户端点击加入会议。", client_id="a-1"
        )
    # the holder and a stored resend in one read; the norms lexicon is cached by version
    assert [s for s in _statements(ctx) if not s.endswith("norms_lexiconversion")] == [
        "SELECT chat_conversation",
        "UPDATE chat_conversation",
        "INSERT chat_message",
    ]
    c.refresh_from_db()
    assert (m.seq, c.last_seq, c.agent_read_seq) == (5, 5, 5)


def test_a_resend_returns_the_stored_message_even_after_the_close(on_duty):
    c = _start(on_duty)
    first = _visitor(c, cid="v-7")
    again = _visitor(c, cid="v-7")
    agent_first = services.agent_send(actor=on_duty, conversation_id=c.pk, text="您好。", client_id="a-7")
    services.conversation_close(actor=on_duty, conversation_id=c.pk)
    count = Message.objects.count()
    assert _visitor(c, cid="v-7").pk == first.pk == again.pk
    assert (
        services.agent_send(actor=on_duty, conversation_id=c.pk, text="您好。", client_id="a-7").pk
        == agent_first.pk
    )
    with pytest.raises(Conflict) as e:
        _visitor(c, cid="v-8")
    assert e.value.code == "conversation_closed"
    with pytest.raises(Conflict) as e:
        services.agent_send(actor=on_duty, conversation_id=c.pk, text="还在吗？", client_id="a-8")
    assert e.value.code == "conversation_closed"
    assert Message.objects.count() == count
    assert Conversation.objects.get(pk=c.pk).last_seq == count


def test_the_cheap_path_refuses_what_the_full_path_refuses(on_duty, make_actor, agent_sh):
    c = _start(on_duty)
    other = make_actor("online2", "online", Role.AGENT)
    before = (Message.objects.count(), Conversation.objects.get(pk=c.pk).last_seq)
    with pytest.raises(Conflict) as e:
        services.agent_send(actor=other, conversation_id=c.pk, text="您好。", client_id="x-1")
    assert e.value.code == "not_holder"
    with pytest.raises(NotFound):  # another team's conversation is a missing one
        services.agent_send(actor=agent_sh, conversation_id=c.pk, text="您好。", client_id="x-2")
    with pytest.raises(NotFound):
        services.agent_send(actor=on_duty, conversation_id=987654321, text="您好。", client_id="x-3")
    with pytest.raises(NotFound):  # a token for another conversation
        services.visitor_send(
            groups=frozenset({"chat.987654321"}), token_id=None, conversation_id=c.pk, text="x", client_id="v"
        )
    assert (Message.objects.count(), Conversation.objects.get(pk=c.pk).last_seq) == before


@pytest.mark.django_db(transaction=True)
def test_on_the_socket_the_push_goes_out_before_the_reply(on_duty):
    """The action's pushes are sent by the consumer after its commit: both sockets get the message."""
    from kefu.realtime.tests.conftest import open_socket, send, session_headers

    c = _start(on_duty)
    # a fresh raw token for the conversation's group (the one start returned is not kept)
    _tok, token = rt.visitor_token_issue(
        purpose=f"chat.conversation:{c.pk}", groups_allowed=[c.group], ttl=services.TOKEN_TTL
    )
    agent_headers, visitor_headers = session_headers(on_duty.user), session_headers(None)

    async def body():
        agent, _ = await open_socket(agent_headers, address="10.0.0.9")
        await send(agent, {"type": "subscribe", "group": c.group})
        visitor, _ = await open_socket(visitor_headers, address="10.0.0.8")
        await send(visitor, {"type": "auth", "token": token})
        await send(visitor, {"type": "subscribe", "group": c.group})
        seen = []
        while len(seen) < 2:
            seen.append(json.loads(await visitor.receive_from(timeout=10))["type"])
        await send(
            visitor,
            {"type": "chat.send", "ref": "r1", "conversation": c.pk, "text": "在吗", "client_id": "v-s"},
        )
        got = [json.loads(await visitor.receive_from(timeout=10)) for _ in range(2)]
        by_type = {f["type"]: f for f in got}
        assert sorted(by_type) == ["event", "reply"]
        assert by_type["event"]["seq"] == by_type["reply"]["data"]["seq"] == 3
        for _ in range(5):
            f = json.loads(await agent.receive_from(timeout=10))
            if f.get("event") == "chat.message":
                assert f["payload"]["client_id"] == "v-s" and f["seq"] == 3
                break
        else:
            raise AssertionError("the agent got no message")
        await visitor.disconnect()
        await agent.disconnect()

    async_to_sync(body)()


# -- a chat citation proposes the visitor's question (knowledge's learning loop) ----------------------


@pytest.fixture
def article(make_actor, hq_reviewer):
    author = make_actor("kb_author", "knowledge", Role.KB_AUTHOR)
    checker = make_actor("kb_checker", "knowledge", Role.KB_AUTHOR)
    confirmer = make_actor("hq_confirmer", "hq_business", Role.KB_CONFIRMER)
    rev = kb.article_create(actor=author, content=content(title="会议录制文件保存多久"))
    for actor, action in (
        (author, "submit"),
        (checker, "check"),
        (confirmer, "confirm"),
        (hq_reviewer, "publish"),
    ):
        rev = kb.revision_transition(actor=actor, revision=rev, action=action)
    return rev


def test_citing_an_article_proposes_the_visitors_question_once(on_duty, article):
    c = _start(on_duty, text="你好")
    _visitor(c, text="云端录制的文件能保存几天？", cid="v-q")
    services.agent_send(
        actor=on_duty,
        conversation_id=c.pk,
        text="云端录制文件默认保存 30 天。",
        client_id="a-c1",
        cite_article=article.article_id,
    )
    proposed = SimilarQuestion.objects.get(article_id=article.article_id)
    assert (proposed.text, proposed.state, proposed.source_ref) == (
        "云端录制的文件能保存几天？",
        SimilarQuestion.State.PROPOSED,
        f"chat:{c.pk}",
    )
    assert proposed.proposed_by == on_duty.user
    c.refresh_from_db()
    assert c.kb_answered is True
    # citing again for the same question proposes nothing new; a resend does nothing at all
    services.agent_send(
        actor=on_duty,
        conversation_id=c.pk,
        text="到期前请下载。",
        client_id="a-c2",
        cite_article=article.article_id,
    )
    services.agent_send(
        actor=on_duty,
        conversation_id=c.pk,
        text="到期前请下载。",
        client_id="a-c2",
        cite_article=article.article_id,
    )
    assert SimilarQuestion.objects.filter(article_id=article.article_id).count() == 1


def test_a_message_without_citation_proposes_nothing(on_duty, article):
    c = _start(on_duty)
    _visitor(c, text="云端录制的文件能保存几天？", cid="v-q")
    services.agent_send(actor=on_duty, conversation_id=c.pk, text="请稍等。", client_id="a-n")
    assert not SimilarQuestion.objects.exists()
