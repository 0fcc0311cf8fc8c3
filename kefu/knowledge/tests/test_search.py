"""Chinese search: segmentation, two-character queries, ranking, scopes, safe snippets."""

from __future__ import annotations

import pytest

from kefu.core.errors import ValidationFailed
from kefu.knowledge import search, services
from kefu.knowledge.segment import query_terms, tokens
from kefu.knowledge.tests.conftest import content

pytestmark = pytest.mark.django_db


def test_segmentation_uses_the_telecom_dictionary():
    assert "新视通" in tokens("新视通云会议会议室")
    assert {"云会议", "会议室"} <= set(tokens("新视通云会议会议室"))
    assert "起租" in tokens("起租时间错误")
    assert "账单" in tokens("月账单怎么查")
    assert query_terms("怎么登录") == ["登录"]


def test_two_character_queries(make_published):
    login = make_published()
    bill = make_published(
        title="如何查询新视通月账单",
        question="客户想查询上月费用明细。",
        answer_agent="引导客户登录网上营业厅，在费用查询中查看月账单。",
        answer_customer="请登录网上营业厅查看月账单。",
        category_code="cf_usage_bill",
        keywords="账单 费用",
    )
    assert [h.article_id for h in search.search("账单")] == [bill.article_id]
    assert login.article_id in [h.article_id for h in search.search("登录")]


def test_title_match_ranks_first(make_published):
    body_only = make_published(
        title="会议中声音断续",
        question="会议中声音断断续续",
        answer_agent="检查网络；如登录异常请重新登录。",
        answer_customer="请检查网络。",
        category_code="cf_usage_function",
        keywords="声音",
    )
    title = make_published()  # 登录 in the title
    ids = [h.article_id for h in search.search("登录")]
    assert ids.index(title.article_id) < ids.index(body_only.article_id)


def test_all_terms_before_any_term(make_published):
    both = make_published(
        title="预约会议失败",
        question="预约云会议时提示失败",
        answer_agent="检查会议室并发数。",
        answer_customer="请稍后重试。",
        category_code="cf_usage_function",
        keywords="预约 会议室",
    )
    one = make_published(
        title="会议室名称修改",
        question="如何修改会议室名称",
        answer_agent="企业管理员可修改。",
        answer_customer="请联系企业管理员。",
        category_code="cf_usage_other",
        keywords="会议室",
    )
    ids = [h.article_id for h in search.search("预约会议室")]
    assert ids[0] == both.article_id and one.article_id in ids


def test_faq_scope_searches_only_public_text(make_published):
    rev = make_published(answer_agent="内部口径：后台工号 XK9 可重置。", answer_customer="请重置密码。")
    assert [h.article_id for h in search.search("XK9", scope="agent")] == [rev.article_id]
    assert search.search("XK9", scope="faq") == []
    hit = search.search("密码", scope="faq")[0]
    assert "XK9" not in hit.snippet_html


def test_snippets_and_titles_are_safe_against_html(make_published):
    make_published(
        title="<script>alert(1)</script>登录问题", answer_agent="<img src=x onerror=alert(1)> 登录失败处理"
    )
    hit = search.search("登录")[0]
    assert "<script>" not in hit.title_html and "&lt;script&gt;" in hit.title_html
    assert "<img" not in hit.snippet_html and "&lt;img" in hit.snippet_html
    assert "<mark>登录</mark>" in hit.snippet_html


def test_unpublished_content_is_not_found(kb_author):
    services.article_create(actor=kb_author, content=content(title="草稿中的账单说明"))
    assert search.search("账单") == []


def test_republication_replaces_the_index_entry(
    make_published, kb_author, kb_checker, hq_confirmer, hq_reviewer
):
    rev = make_published(title="旧标题视频卡顿")
    new = services.revision_edit(
        actor=kb_author, article=rev.article, content=content(title="新标题画面花屏")
    )
    for actor, action in (
        (kb_author, "submit"),
        (kb_checker, "check"),
        (hq_confirmer, "confirm"),
        (hq_reviewer, "publish"),
    ):
        new = services.revision_transition(actor=actor, revision=new, action=action)
    assert search.search("卡顿") == []
    assert [h.revision_id for h in search.search("花屏")] == [new.pk]


def test_category_filter_and_limits(make_published):
    a = make_published(category_code="cf_usage_login")
    make_published(category_code="cf_activation_account")
    assert [h.article_id for h in search.search("登录", category_code="cf_usage")] == [a.article_id]
    with pytest.raises(ValidationFailed):
        search.search("登录", limit=0)
    with pytest.raises(ValidationFailed):
        search.search("登录", scope="everything")


def test_query_syntax_is_inert(make_published):
    make_published()
    for q in ['"', "登录 OR", "a & b | !c", "'; DROP TABLE x; --", "NEAR(登录", "*", '登录"密码']:
        search.search(q)  # no error, whatever the engine's query syntax


def test_long_descriptions_become_a_few_terms(make_published):
    rev = make_published()
    text = "客户来电反映，今天上午开始在公司电脑上打开新视通客户端以后一直无法登录，提示密码错误，" * 5
    assert len(query_terms(text)) <= 12
    assert rev.article_id in [h.article_id for h in search.search(text)]


def test_reindex_all(make_published):
    rev = make_published()
    assert search.reindex_all() == 1
    assert [h.article_id for h in search.search("登录")] == [rev.article_id]
