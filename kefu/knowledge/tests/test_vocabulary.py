"""Vocabulary kept by the knowledge team (synonyms, Excel), the learning loop's queue, citations by number,
the search log and knowledge gaps, the public FAQ by topic, and only permitted buttons."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone
from openpyxl import Workbook

from conftest import login_client
from kefu.core.errors import ValidationFailed
from kefu.knowledge import search, selectors, services, vocab
from kefu.knowledge.models import Article, SearchLog, SimilarQuestion, SynonymGroup

pytestmark = pytest.mark.django_db


def _xlsx(rows):
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_synonyms_round_trip_through_excel(kb_author):
    services.synonym_group_save(actor=kb_author, words="挂断, 结束会议 ，散会", note="会议结束")
    data = vocab.to_xlsx()
    assert vocab.rows_from_xlsx(data) == [("挂断 结束会议 散会", "会议结束")]
    result = services.synonyms_replace(
        actor=kb_author,
        rows=vocab.rows_from_xlsx(_xlsx([["同义词", "说明"], ["退款 退费", "费用"], ["扩容 增加方数", ""]])),
    )
    assert result == {"deleted": 1, "created": 2}
    assert sorted(g.words for g in SynonymGroup.objects.all()) == ["扩容 增加方数", "退款 退费"]


def test_a_bad_synonym_row_refuses_the_whole_sheet(kb_author):
    services.synonym_group_save(actor=kb_author, words="退款 退费")
    with pytest.raises(ValidationFailed) as e:
        services.synonyms_replace(actor=kb_author, rows=[("扩容 增加方数", ""), ("孤词", "")])
    assert e.value.fields[0]["row"] == 3 and "第 3 行" in e.value.fields[0]["message"]
    assert [g.words for g in SynonymGroup.objects.all()] == ["退款 退费"]  # nothing half-written
    with pytest.raises(ValidationFailed):
        vocab.rows_from_xlsx(_xlsx([["标题"], ["x"]]))  # no 同义词 column


def test_only_authors_change_synonyms(agent_gd, kb_author):
    from kefu.core.errors import Forbidden

    with pytest.raises(Forbidden):
        services.synonym_group_save(actor=agent_gd, words="a b")


def test_synonym_page_keeps_typed_text_on_error(client, kb_author):
    login_client(client, kb_author)
    r = client.post("/kb/synonyms/", {"words": "孤零零", "note": "说明文字"})
    assert r.status_code == 422
    html = r.content.decode()
    assert 'value="孤零零"' in html and 'value="说明文字"' in html
    r = client.post("/kb/synonyms/", {"words": "挂断 结束会议", "note": ""})
    assert r.status_code == 302 and SynonymGroup.objects.count() == 1
    r = client.get("/kb/synonyms/", {"q": "挂断"})
    assert "结束会议" in r.content.decode()
    upload = io.BytesIO(_xlsx([["同义词", "说明"], ["退款 退费", ""]]))
    upload.name = "s.xlsx"
    assert client.post("/kb/synonyms/import/", {"file": upload}).status_code == 302
    assert [g.words for g in SynonymGroup.objects.all()] == ["退款 退费"]
    r = client.get("/kb/synonyms.xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")


def test_learning_loop_queue(client, make_published, kb_author, agent_gd):
    rev = make_published()
    sq = services.similar_propose(
        actor=agent_gd, article_id=rev.article_id, text="电脑端老是登不上去", source_ref="GD1"
    )
    assert (
        services.similar_propose(actor=agent_gd, article_id=rev.article_id, text="电脑端老是登不上去") is None
    )
    assert services.similar_propose(actor=agent_gd, article_id=rev.article_id, text=rev.title) is None
    login_client(client, kb_author)
    html = client.get("/kb/similar/").content.decode()
    assert "电脑端老是登不上去" in html and "GD1" in html
    assert client.post(f"/kb/similar/{sq.pk}/decide/", {"decision": "reject"}).status_code == 302
    assert SimilarQuestion.objects.get(pk=sq.pk).state == "rejected"
    # A rejected subject is not proposed again.
    assert (
        services.similar_propose(actor=agent_gd, article_id=rev.article_id, text="电脑端老是登不上去") is None
    )
    client.post(f"/kb/articles/{rev.article_id}/similar/", {"text": "PC端进不去"})
    assert SimilarQuestion.objects.get(text="PC端进不去").state == "accepted"
    assert rev.article_id in [h.article_id for h in search.search("PC端进不去")]


def test_citation_by_visible_number_or_title(make_published):
    rev = make_published()
    code = f"KB{rev.article_id:06d}"
    assert selectors.article_ref(code) == rev.article_id
    assert selectors.article_ref(code.lower()) == rev.article_id
    assert selectors.article_ref(str(rev.article_id)) == rev.article_id
    assert selectors.article_ref(rev.title) == rev.article_id
    assert selectors.article_ref("") is None
    assert selectors.published_article(code).article_id == rev.article_id
    with pytest.raises(ValidationFailed) as e:
        selectors.article_ref("KB999999")
    assert "KB999999" in e.value.message
    with pytest.raises(ValidationFailed):
        selectors.article_ref("不存在的标题")


def test_search_log_and_knowledge_gaps(client, make_published, kb_author, agent_gd):
    rev = make_published()
    login_client(client, agent_gd)
    client.get("/kb/", {"q": "电视墙拼接"})  # nothing found
    client.get("/kb/", {"q": "电视墙拼接"})
    r = client.get("/kb/", {"q": "登录"})
    log = SearchLog.objects.get(query="登录")
    assert f"?s={log.pk}" in r.content.decode()
    client.get(f"/kb/articles/{rev.article_id}/", {"s": log.pk})  # opened: not a gap
    gaps = selectors.knowledge_gaps(since=timezone.now() - timezone.timedelta(days=1))
    assert [(g["example"], g["n"], g["empty"]) for g in gaps] == [("电视墙拼接", 2, 2)]
    login_client(client, kb_author)
    assert "电视墙拼接" in client.get("/kb/gaps/").content.decode()


def test_faq_grouped_by_topic_most_viewed_first(client, make_published):
    login = make_published(category_code="cf_usage_login", title="登录文章甲")
    make_published(category_code="cf_usage_login", title="登录文章乙")
    bill = make_published(category_code="cf_usage_bill", title="账单文章")
    for _ in range(3):
        client.get(f"/kb/faq/{bill.article_id}/")
    client.get(f"/kb/faq/{login.article_id}/")
    assert Article.objects.get(pk=bill.article_id).view_count == 3
    html = client.get("/kb/faq/").content.decode()
    assert html.count('data-testid="faq-topic"') == 2
    assert html.index("账单文章") < html.index("登录文章甲") < html.index("登录文章乙")
    html = client.get("/kb/faq/", {"q": "账单"}).content.decode()
    assert "faq-hits" in html and "?s=" in html


def test_revision_page_offers_only_the_buttons_the_user_may_use(client, kb_author, kb_checker):
    from kefu.knowledge.tests.conftest import content

    rev = services.article_create(actor=kb_author, content=content())
    rev = services.revision_transition(actor=kb_author, revision=rev, action="submit")
    login_client(client, kb_author)  # the author may check (role) but not their own revision (four eyes)
    html = client.get(f"/kb/revisions/{rev.pk}/").content.decode()
    assert (
        'data-action="check"' not in html
    )  # (returning one's own submission stays possible: not an approval)
    login_client(client, kb_checker)
    html = client.get(f"/kb/revisions/{rev.pk}/").content.decode()
    assert 'data-action="check"' in html and 'data-action="publish"' not in html


def test_suggest_shows_a_typed_number_first_and_logs_the_search(client, make_published, agent_gd):
    rev = make_published()
    other = make_published(title="账单查询", keywords="账单", question="客户询问账单。")
    login_client(client, agent_gd)
    code = f"KB{other.article_id:06d}"
    html = client.get(
        "/kb/suggest/", {"q": code, "subject": "客户端登录不上", "target": "article_id"}
    ).content.decode()
    assert html.index(f'data-kb-cite="{code}"') < html.index(f'data-kb-cite="KB{rev.article_id:06d}"')
    log = SearchLog.objects.get(scope="suggest")
    assert (
        client.post("/kb/suggest/clicked/", {"log": log.pk, "article": other.article_id}).status_code == 204
    )
    assert SearchLog.objects.get(pk=log.pk).clicked_article_id == other.article_id
