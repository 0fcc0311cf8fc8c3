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
    for actor, action in (
        (author, "submit"),
        (checker, "check"),
        (confirmer, "confirm"),
        (hq_reviewer, "publish"),
    ):
        rev = kb.revision_transition(actor=actor, revision=rev, action=action)
    return rev


def test_citing_a_published_article_marks_resolved_from_kb(agent_bj, published):
    t = make_ticket(agent_bj, kind="consultation", category=None, topic="usage")
    services.ticket_resolve(
        actor=agent_bj,
        ticket=t,
        resolution="按知识库答复",
        article_id=published.article_id,
        reply_method="call_back",
        reply_content="已告知重置密码步骤",
    )
    t = fresh(t)
    assert (t.resolved_from_kb, t.kb_article_id, t.kb_article_title) == (
        True,
        published.article_id,
        published.title,
    )


def test_citing_an_unpublished_article_is_refused(agent_bj):
    t = make_ticket(agent_bj, kind="consultation", category=None, topic="usage")
    with pytest.raises(NotFound):
        services.ticket_resolve(
            actor=agent_bj, ticket=t, resolution="x", article_id=999999, reply_content="x"
        )
    assert fresh(t).status == "open"


def test_problem_source_feeds_knowledge_mining(agent_bj):
    t = make_ticket(agent_bj, subject="会议终端无法登录")
    services.ticket_resolve(actor=agent_bj, ticket=t, resolution="x", reply_content="已答复")
    now = timezone.now()
    samples = [
        s for s in problem_samples(now - timedelta(hours=1), now + timedelta(hours=1)) if s.ref == t.number
    ]
    assert samples and samples[0].category_code == "cf_usage_login" and "无法登录" in samples[0].text
    assert samples[0].province_id == t.province_id


# -- knowledge where agents type (issue #13.1; the knowledge engineer's widget in the order forms) -----------


def _web(actor):
    from django.test import Client

    c = Client()
    c.force_login(actor.user)
    return c


def test_resolve_form_cites_by_visible_number_and_proposes_the_subject(agent_bj, published):
    from kefu.knowledge.models import SimilarQuestion

    t = make_ticket(agent_bj, kind="consultation", category=None, topic="usage", subject="电脑端老是登不上去")
    c = _web(agent_bj)
    page = c.get(f"/tickets/{t.number}/").content.decode()
    assert 'data-testid="kb-widget"' in page and 'name="article_id"' in page
    code = f"KB{published.article_id:06d}"
    r = c.post(
        f"/tickets/{t.number}/act/resolve/",
        {
            "resolution": "按知识库答复",
            "reply_method": "call_back",
            "reply_content": "已告知重置密码步骤",
            "article_id": code,
            "version": str(fresh(t).version),
        },
    )
    assert r.status_code == 302, r.content.decode()[:500]
    t = fresh(t)
    assert (t.resolved_from_kb, t.kb_article_id) == (True, published.article_id)
    # The learning loop: the order's subject waits for the author as a similar question of the article.
    sq = SimilarQuestion.objects.get(article_id=published.article_id)
    assert (sq.text, sq.state, sq.source_ref) == ("电脑端老是登不上去", "proposed", t.number)


def test_an_unknown_number_is_refused_in_words_and_the_typed_text_stays(agent_bj, published):
    t = make_ticket(agent_bj, kind="consultation", category=None, topic="usage")
    c = _web(agent_bj)
    r = c.post(
        f"/tickets/{t.number}/act/resolve/",
        {
            "resolution": "我写的处理结果",
            "reply_method": "call_back",
            "reply_content": "我写的答复",
            "article_id": "KB999999",
            "version": str(fresh(t).version),
        },
    )
    html = r.content.decode()
    assert r.status_code == 422 and "KB999999" in html
    assert "我写的处理结果" in html and "我写的答复" in html and 'value="KB999999"' in html
    assert fresh(t).status == "open" and not fresh(t).resolved_from_kb


def test_order_form_suggests_articles_from_subject_and_description(agent_bj, published):
    c = _web(agent_bj)
    page = c.get("/tickets/new/").content.decode()
    assert 'data-testid="kb-widget"' in page and "[name=subject],[name=description]" in page
    frag = c.get(
        "/kb/suggest/", {"subject": "客户端登录不上", "description": "提示密码错误", "target": ""}
    ).content.decode()
    assert (
        f"/kb/articles/{published.article_id}/" in frag and "data-kb-cite" not in frag
    )  # nothing to cite into


def test_order_form_cites_on_create_and_proposes_the_subject(agent_bj, published):
    """Citing in the order form stores the citation on the new order (not only on resolve) and the subject
    waits for the author as a similar question; an unknown number is refused in words, nothing created."""
    from kefu.knowledge.models import SimilarQuestion
    from kefu.tickets.models import Ticket

    from .factories import customer_in

    customer = customer_in("bj", name="北京某局")
    c = _web(agent_bj)
    assert 'name="article_id"' in c.get("/tickets/new/").content.decode()
    form = {
        "customer": customer.pk,
        "kind": "consultation",
        "consult_topic": "usage",
        "subject": "电脑端一直登不进去",
        "description": "提示密码错误",
        "form_token": "tok-kb",
    }
    bad = c.post("/tickets/new/", {**form, "article_id": "KB999999"})
    html = bad.content.decode()
    assert bad.status_code == 422 and "KB999999" in html and "电脑端一直登不进去" in html
    assert not Ticket.objects.unscoped("test").exists()
    code = f"KB{published.article_id:06d}"
    r = c.post("/tickets/new/", {**form, "article_id": code, "form_token": "tok-kb2"})
    assert r.status_code == 302, r.content.decode()[:500]
    t = Ticket.objects.unscoped("test").get(subject="电脑端一直登不进去")
    assert (t.kb_article_id, t.kb_article_title, t.resolved_from_kb) == (
        published.article_id,
        published.title,
        False,
    )
    sq = SimilarQuestion.objects.get(article_id=published.article_id)
    assert (sq.text, sq.state, sq.source_ref) == ("电脑端一直登不进去", "proposed", t.number)
