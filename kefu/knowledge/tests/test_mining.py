"""Common-problem mining from a registered work-order source."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kefu.core.models import AuditEvent
from kefu.knowledge import mining, registry, services
from kefu.knowledge.models import CommonProblem
from kefu.knowledge.registry import ProblemSample

pytestmark = pytest.mark.django_db


@pytest.fixture
def source():
    samples: list[ProblemSample] = []

    def fn(since, until):
        return list(samples)

    registry.register_problem_source(fn)
    yield samples
    registry.unregister_problem_source(fn)


def test_grouping_is_by_category_and_similar_text():
    s = [
        ProblemSample("1", "cf_usage_function", "会议中共享屏幕后对方看到黑屏", 1),
        ProblemSample("2", "cf_usage_function", "共享屏幕时参会人看到黑屏", 2),
        ProblemSample("3", "cf_usage_bill", "共享屏幕 黑屏", 3),
        ProblemSample("4", "cf_usage_function", "发票开具申请", 3),
    ]
    groups = mining.group_samples(s)
    sizes = sorted((g.category_code, len(g.samples)) for g in groups)
    assert sizes == [("cf_usage_bill", 1), ("cf_usage_function", 1), ("cf_usage_function", 2)]


def test_frequent_unanswered_problems_are_listed_and_drafted(source, make_published, kb_author):
    make_published()  # answers login problems
    source.extend(
        [
            ProblemSample(f"T{i}", "cf_usage_function", text, i % 3 + 1)
            for i, text in enumerate(
                [
                    "共享屏幕后参会人看到黑屏",
                    "会议中共享屏幕黑屏",
                    "共享屏幕以后对方黑屏看不到内容",
                    "手机共享屏幕黑屏",
                ]
            )
        ]
    )
    source.extend(
        [ProblemSample(f"L{i}", "cf_usage_login", "新视通客户端无法登录，提示密码错误", 1) for i in range(4)]
    )
    source.extend([ProblemSample("R1", "cf_other", "一次性的奇怪问题", 1)])
    summary = mining.mine(now=timezone.now())
    problems = list(CommonProblem.objects.all())
    assert summary["problems"] == 1 and len(problems) == 1
    p = problems[0]
    assert p.category_code == "cf_usage_function" and p.sample_count == 4 and p.province_count == 3
    assert "黑屏" in p.terms and "共享屏幕" in p.terms
    found = AuditEvent.objects.filter(verb="kb.problem_found", target_id=str(p.pk))
    assert found.count() == 1 and found.get().actor_id is None and found.get().data["samples"] == 4
    # idempotent: same finding, no new problem and no new event
    mining.mine(now=timezone.now() + timedelta(minutes=5))
    assert CommonProblem.objects.count() == 1
    assert AuditEvent.objects.filter(verb__startswith="kb.problem_", target_id=str(p.pk)).count() == 1

    rev = services.problem_start_draft(actor=kb_author, problem=p)
    p.refresh_from_db()
    assert p.state == "drafted" and p.draft_article_id == rev.article_id
    assert rev.status == "draft" and rev.category_code == "cf_usage_function"


def test_mined_samples_are_national_a_province_author_sees_none(source, make_actor, client):
    """Mined groups quote work orders of every province: only a national (operating unit) author reads or acts
    on them; for an author seated in a province they look exactly like missing ones."""
    from conftest import login_client
    from kefu.org.models import Role
    from tests.test_isolation import normalized_body

    source.extend(
        [
            ProblemSample(f"WOLEAK{i}", "cf_usage_function", f"北京客户某某共享屏幕黑屏{i}", 1)
            for i in range(4)
        ]
    )
    mining.mine(now=timezone.now())
    p = CommonProblem.objects.get()
    js_author = make_actor("kb_author_js", "desk_js", Role.KB_AUTHOR)
    client = login_client(client, js_author)
    page = client.get("/kb/problems/").content.decode()
    assert "共享屏幕黑屏" not in page and "WOLEAK" not in page
    for action in ("draft", "dismiss"):
        denied_url, missing_url = f"/kb/problems/{p.pk}/{action}/", f"/kb/problems/987654321/{action}/"
        denied, missing = client.post(denied_url), client.post(missing_url)
        assert denied.status_code == missing.status_code == 404
        assert normalized_body(denied, denied_url) == normalized_body(missing, missing_url)
    p.refresh_from_db()
    assert p.state == "open" and p.draft_article_id is None
    national = login_client(client, make_actor("kb_author_hq", "knowledge", Role.KB_AUTHOR))
    assert "WOLEAK1" in national.get("/kb/problems/").content.decode()
