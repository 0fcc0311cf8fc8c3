"""Lists and pages cost the same number of queries whatever the number of rows (no query per row)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import login_client
from kefu.knowledge import mining, registry, services
from kefu.knowledge.models import Article, Feedback
from kefu.knowledge.registry import ProblemSample

pytestmark = pytest.mark.django_db

PAGES = {
    "author": ["/kb/", "/kb/?status=published", "/kb/problems/", "/kb/feedback/?state=", "/kb/review/"],
    "reviewer": ["/kb/receipts/", "/kb/review/", "/"],
    "agent": ["/kb/", "/kb/?q=登录", "/kb/receipts/", "/kb/feedback/?state=", "/"],
}
ANON = ["/kb/faq/", "/kb/faq/?q=登录"]


def _counts(clients) -> dict[str, int]:
    out = {}
    for who, client in clients.items():
        for url in PAGES.get(who, ANON):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200, url
            out[f"{who} {url}"] = len(ctx.captured_queries)
    return out


def _more(make_published, kb_author, agent_gd, samples, n):
    for i in range(n):
        rev = make_published(title=f"新视通登录问题{len(samples)}-{i}", keywords=f"登录 关键词{i}")
        services.receipt_load(actor=agent_gd, revision=rev)
        services.feedback_create(
            actor=agent_gd,
            kind=Feedback.Kind.WRONG,
            text="答案有误",
            article=Article.objects.get(pk=rev.article_id),
        )
        services.article_create(actor=kb_author, content=rev_content(i))
        group = f"cf_usage_{len(samples)}"  # one group per category: a problem per call
        samples.extend(
            ProblemSample(f"T{len(samples)}-{j}", group, "共享屏幕后对方看到黑屏和水印", 1) for j in range(3)
        )
    mining.mine(now=timezone.now())


def rev_content(i):
    from kefu.knowledge.tests.conftest import content

    return content(title=f"草稿{i}", category_code="cf_usage_bill")


def test_knowledge_pages_do_not_query_per_row(client, make_published, kb_author, hq_reviewer, agent_gd):
    from django.test import Client

    samples: list[ProblemSample] = []

    def source(since, until):
        return list(samples)

    registry.register_problem_source(source)
    try:
        clients = {
            "author": login_client(Client(), kb_author),
            "reviewer": login_client(Client(), hq_reviewer),
            "agent": login_client(Client(), agent_gd),
            "anon": Client(),
        }
        _more(make_published, kb_author, agent_gd, samples, 2)
        few = _counts(clients)
        _more(make_published, kb_author, agent_gd, samples, 4)
        many = _counts(clients)
    finally:
        registry.unregister_problem_source(source)
    from kefu.knowledge.models import CommonProblem

    assert CommonProblem.objects.count() >= 6  # the problems page has rows to cost
    assert many == few, {k: (few[k], many[k]) for k in few if few[k] != many[k]}
