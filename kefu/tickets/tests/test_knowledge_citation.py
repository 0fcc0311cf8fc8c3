"""A consultation answered from a published knowledge article is marked resolved from the knowledge base;
sending it on afterwards is an off-rule transfer; the mining source hands resolved orders to knowledge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kefu.core.errors import NotFound
from kefu.knowledge import services as kb
from kefu.knowledge.registry import problem_samples
from kefu.knowledge.tests.conftest import content
from kefu.org.models import Role
from kefu.tickets import services

from .factories import fresh, make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(make_actor, hq_reviewer):
    author = make_actor("kb_author", "knowledge", Role.KB_AUTHOR)
    checker = make_actor("kb_checker", "knowledge", Role.KB_AUTHOR)
    confirmer = make_actor("hq_confirmer", "hq_business", Role.KB_CONFIRMER)
    rev = kb.article_create(actor=author, content=content())
    for actor, action in ((author, "submit"), (checker, "check"), (confirmer, "confirm"), (hq_reviewer, "publish")):
        rev = kb.revision_transition(actor=actor, revision=rev, action=action)
    return rev


def test_citing_a_published_article_marks_resolved_from_kb(agent_bj, published):
    t = make_ticket(agent_bj, kind="consultation", category=None, topic="usage")
    services.ticket_resolve(actor=agent_bj, ticket=t, resolution="按知识库答复", article_id=published.article_id,
                            reply_method="call_back", reply_content="已告知重置密码步骤")
    t = fresh(t)
    assert (t.resolved_from_kb, t.kb_article_id, t.kb_article_title) == (True, published.article_id, published.title)


def test_citing_an_unpublished_article_is_refused(agent_bj):
    t = make_ticket(agent_bj, kind="consultation", category=None, topic="usage")
    with pytest.raises(NotFound):
        services.ticket_resolve(actor=agent_bj, ticket=t, resolution="x", article_id=999999, reply_content="x")
    assert fresh(t).status == "open"


def test_problem_source_feeds_knowledge_mining(agent_bj):
    t = make_ticket(agent_bj, subject="会议终端无法登录")
    services.ticket_resolve(actor=agent_bj, ticket=t, resolution="x", reply_content="已答复")
    now = timezone.now()
    samples = [s for s in problem_samples(now - timedelta(hours=1), now + timedelta(hours=1)) if s.ref == t.number]
    assert samples and samples[0].category_code == "cf_usage_login" and "无法登录" in samples[0].text
    assert samples[0].province_id == t.province_id
