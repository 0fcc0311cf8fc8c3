from kefu.knowledge import search


def test_publish_and_search(make_published, db):
    rev = make_published()
    assert rev.status == "published"
    hits = search.search("登录")
    assert [h.article_id for h in hits] == [rev.article_id]
    assert "<mark>登录</mark>" in hits[0].title_html
