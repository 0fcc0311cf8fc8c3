"""Pages and API: rendering, HTML kept inert everywhere, the public FAQ, suggestions, API errors."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import login_client
from kefu.knowledge.models import Revision
from kefu.knowledge.tests.conftest import content

pytestmark = pytest.mark.django_db

EVIL_TITLE = '<script>alert("t")</script>登录'
EVIL = '<img src=x onerror="alert(1)"><b>粗体</b> 登录'


@pytest.fixture
def evil(make_published):
    return make_published(
        title=EVIL_TITLE, question=EVIL, answer_agent=EVIL, answer_customer=EVIL, keywords="<i>k</i>"
    )


def assert_inert(html: str) -> None:
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>粗体</b>" not in html
    assert "&lt;script&gt;" in html or "&lt;img" in html


def test_html_is_inert_on_article_faq_search_and_admin(client, evil, agent_bj, admin_actor):
    login_client(client, agent_bj)
    for url in (
        f"/kb/articles/{evil.article_id}/",
        f"/kb/revisions/{evil.pk}/",
        "/kb/?q=登录",
        "/kb/suggest/?q=登录",
    ):
        r = client.get(url)
        assert r.status_code == 200, url
        assert_inert(r.content.decode())
    anon = Client()
    for url in (f"/kb/faq/{evil.article_id}/", "/kb/faq/?q=登录", "/kb/faq/"):
        r = anon.get(url)
        assert r.status_code == 200, url
        assert_inert(r.content.decode())
    admin = login_client(Client(), admin_actor)
    r = admin.get(f"/admin/knowledge/revision/{evil.pk}/change/")
    assert r.status_code == 200
    assert "<script>alert" not in r.content.decode()
    r = admin.get("/admin/knowledge/revision/")
    assert "<script>alert" not in r.content.decode()


def test_faq_shows_the_customer_answer_of_the_published_revision(make_published):
    rev = make_published(answer_agent="坐席内部口径XYZ", answer_customer="客户看到的答案ABC")
    r = Client().get(f"/kb/faq/{rev.article_id}/")
    html = r.content.decode()
    assert "客户看到的答案ABC" in html and "坐席内部口径XYZ" not in html
    assert 'name="viewport"' in html


def test_faq_hides_unpublished(kb_author):
    from kefu.knowledge import services

    rev = services.article_create(actor=kb_author, content=content())
    assert Client().get(f"/kb/faq/{rev.article_id}/").status_code == 404


def test_agents_do_not_see_drafts(client, kb_author, agent_bj):
    from kefu.knowledge import services

    rev = services.article_create(actor=kb_author, content=content())
    login_client(client, agent_bj)
    assert client.get(f"/kb/revisions/{rev.pk}/").status_code == 404
    assert client.get(f"/kb/articles/{rev.article_id}/").status_code == 404


def test_web_workflow_errors_are_clear_and_change_nothing(client, kb_author, hq_reviewer):
    from kefu.knowledge import services

    rev = services.article_create(actor=kb_author, content=content())
    services.revision_transition(actor=kb_author, revision=rev, action="submit")
    login_client(client, hq_reviewer)
    r = client.post(f"/kb/revisions/{rev.pk}/act/", {"action": "publish"})
    assert r.status_code == 409 and "顺序" in r.content.decode()
    r = client.post(f"/kb/revisions/{rev.pk}/act/", {"action": "check"})
    assert r.status_code == 403
    assert Revision.objects.get(pk=rev.pk).status == "submitted"


def test_api_search_and_actions(client, make_published, kb_author, kb_checker, hq_reviewer):
    rev = make_published()
    login_client(client, kb_author)
    r = client.get("/api/knowledge/search", {"q": "登录", "limit": 3, "scope": "faq"})
    assert r.status_code == 200
    assert [h["article_id"] for h in r.json()] == [rev.article_id]
    assert client.get("/api/knowledge/search", {"q": "登录", "limit": 999}).status_code == 422
    assert client.get("/api/knowledge/search", {"q": "登录", "bogus": 1}).status_code == 400

    created = client.post(
        "/api/knowledge/articles",
        {**content().__dict__, "release_date": None},
        content_type="application/json",
    )
    assert created.status_code == 201
    rid = created.json()["id"]
    assert (
        client.post(
            f"/api/knowledge/revisions/{rid}/actions", {"action": "submit"}, content_type="application/json"
        ).json()["status"]
        == "submitted"
    )
    login_client(client, hq_reviewer)
    r = client.post(
        f"/api/knowledge/revisions/{rid}/actions", {"action": "publish"}, content_type="application/json"
    )
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "illegal_transition" and body["message"] and body["message_en"]
    r = client.post(
        f"/api/knowledge/revisions/{rid}/actions", {"action": "check"}, content_type="application/json"
    )
    assert r.status_code == 403 and r.json()["message_en"]
    assert Revision.objects.get(pk=rid).status == "submitted"


def test_api_receipts(client, make_published, agent_gd, hq_reviewer):
    rev = make_published()
    login_client(client, agent_gd)
    r = client.post(f"/api/knowledge/revisions/{rev.pk}/receipts")
    assert r.status_code == 200 and r.json()["province_code"] == "440000" and r.json()["loaded"]
    assert [x["province_code"] for x in client.get("/api/knowledge/receipts").json()] == ["440000"]
    login_client(client, hq_reviewer)
    rows = client.get("/api/knowledge/receipts", {"revision_id": rev.pk}).json()
    assert len(rows) == 31 and sum(x["loaded"] for x in rows) == 1


def test_pages_render_for_each_role(
    client, make_published, kb_author, kb_checker, hq_confirmer, hq_reviewer, agent_gd, admin_actor
):
    rev = make_published()
    # Each page with what shows it is that page (a heading, or the published article's title).
    pages = {
        "/kb/": "<h1>知识库</h1>",
        "/kb/review/": "<h1>待我审核</h1>",
        "/kb/receipts/": "<h1>各省加载回执</h1>",
        "/kb/feedback/": "<h1>知识反馈</h1>",
        f"/kb/articles/{rev.article_id}/": rev.title,
        f"/kb/revisions/{rev.pk}/": rev.title,
        "/": "知识库",  # the navigation entry
    }
    for actor in (kb_author, kb_checker, hq_confirmer, hq_reviewer, agent_gd):
        login_client(client, actor)
        for url, shows in pages.items():
            response = client.get(url)
            html = response.content.decode()
            assert response.status_code == 200 and shows in html, (actor.user.username, url)
            assert 'class="error-box"' not in html, (actor.user.username, url)
    login_client(client, kb_author)
    for url, shows in {
        "/kb/articles/new/": "新建知识",
        f"/kb/articles/{rev.article_id}/edit/": "修改知识",
        "/kb/problems/": "<h1>普遍性问题(知识库尚无答案)</h1>",
        "/kb/import/": "<h1>导入知识</h1>",
    }.items():
        response = client.get(url)
        assert response.status_code == 200 and shows in response.content.decode(), url
    export = client.get("/kb/export.xlsx")
    assert export.status_code == 200 and export["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    assert b"".join(export.streaming_content if export.streaming else [export.content])[:2] == b"PK"


def test_suggest_fragment_offers_citable_articles(client, make_published, hotline_agent):
    rev = make_published()
    login_client(client, hotline_agent)
    r = client.get(
        "/kb/suggest/", {"q": "客户说电脑客户端登录不上", "target": "article_id"}, HTTP_HX_REQUEST="true"
    )
    html = r.content.decode()
    assert f'data-kb-cite="KB{rev.article_id:06d}"' in html and 'data-kb-target="article_id"' in html
    assert rev.answer_customer in html  # the customer answer, ready to paste


def test_editors_status_filter_counts_what_the_list_shows(client, make_published, kb_author):
    """Each status option carries the number of articles the list then shows (newest revision per article)."""
    from kefu.knowledge import services

    rev = make_published()
    services.revision_edit(actor=kb_author, article=rev.article, content=content(title="新版草稿"))
    make_published(title="另一篇")
    html = login_client(client, kb_author).get("/kb/").content.decode()
    assert '<option value="published">已发布 (1)</option>' in html
    assert '<option value="draft">草稿 (1)</option>' in html
    listed = login_client(client, kb_author).get("/kb/?status=published").content.decode()
    assert "另一篇" in listed and listed.count('class="kb-status kb-status-published"') == 1


def test_faq_names_the_topic_not_the_internal_complaint_taxonomy(make_published):
    rev = make_published(category_code="cf_usage_login")
    html = Client().get(f"/kb/faq/{rev.article_id}/").content.decode()
    assert "无法正常登录" in html and "投诉/故障" not in html and "使用类" not in html


def test_chat_console_searches_the_knowledge_base_and_cites_into_the_message(
    client, make_published, agent_sh
):
    """The console carries the knowledge widget, wired to the composer's text and citation fields (the
    message is sent with ``cite_article`` through the chat's norms-checked send); a typed KB number is
    offered first, citable by its article id."""
    rev = make_published()
    login_client(client, agent_sh)
    page = client.get("/chat/console/").content.decode()
    assert 'data-testid="kb-chat-widget"' in page
    for attr, field in (
        ("data-kb-chat-text", "c-text"),
        ("data-kb-chat-cite", "c-cite"),
        ("data-kb-chat-label", "c-cite-label"),
    ):
        assert f'{attr}="#{field}"' in page and f'id="{field}"' in page  # the hook's targets exist
    code = f"KB{rev.article_id:06d}"
    html = client.get("/kb/suggest/", {"q": code, "target": "chat"}, HTTP_HX_REQUEST="true").content.decode()
    assert f'data-kb-cite="{code}" data-kb-article="{rev.article_id}"' in html
    assert rev.answer_customer in html and "随下一条消息" in html
    words = client.get("/kb/suggest/", {"q": "电脑客户端登不上", "target": "chat"}, HTTP_HX_REQUEST="true")
    assert f'data-kb-cite="{code}"' in words.content.decode()
