"""Ranking: BM25 over this knowledge base's own document frequencies, field weights, synonyms, similar questions.

The same SQL runs on SQLite and PostgreSQL; ``test_sql_ranking_matches_the_reference`` checks it against an
independent Python BM25 over the stored text on whichever database the suite runs on, so two runs (SQLite,
PostgreSQL) that both pass agree with each other.
"""

from __future__ import annotations

import math
from collections import defaultdict

import pytest

from kefu.knowledge import relevance, search, services
from kefu.knowledge.demo_articles import ARTICLES
from kefu.knowledge.models import Article, Revision, SearchDoc, SimilarQuestion, SynonymGroup
from kefu.knowledge.segment import QUERY_STOPWORDS

pytestmark = pytest.mark.django_db


def _ids(q, **kw):
    return [h.article_id for h in search.search(q, **kw)]


def _publish_all(user, entries):
    ids = {}
    for key, category, title, question, agent, customer, keywords in entries:
        a = Article.objects.create(created_by=user)
        r = Revision.objects.create(
            article=a,
            number=1,
            author=user,
            status="published",
            title=title,
            question=question,
            answer_agent=agent,
            answer_customer=customer,
            category_code=category,
            keywords=keywords,
        )
        a.published_revision = r
        a.save(update_fields=["published_revision"])
        ids[a.pk] = key
    search.index_revisions(Revision.objects.order_by("pk"))
    return ids


def test_terms_found_in_no_article_are_ignored(make_published):
    rev = make_published()
    assert _ids("登录 石破天惊") == _ids("登录") == [rev.article_id]
    assert _ids("石破天惊") == []


def test_an_article_matching_several_real_terms_beats_one_matching_a_rare_word(make_published):
    # 柚子 is in one article only (a rare, high-idf word); 会议 and 卡顿 are common but real.
    rare = make_published(title="柚子通讯录导入说明", keywords="通讯录 导入", question="客户询问通讯录导入。")
    real = make_published(title="会议视频卡顿", keywords="会议 卡顿 视频", question="会议中视频卡顿。")
    for i in range(3):
        make_published(title=f"会议功能介绍{i}", keywords="会议", question="会议设置。")
    for i in range(8):  # the rest of the knowledge base is about other things
        make_published(title=f"账单查询说明{i}", keywords="账单", question="客户询问账单。")
    assert _ids("柚子 会议 卡顿")[0] == real.article_id
    assert rare.article_id in _ids("柚子 会议 卡顿")


def test_single_characters_count_at_a_low_weight(make_published):
    card = make_published(title="终端卡了怎么办", keywords="网络", question="客户反映终端卡。")
    picture = make_published(title="画面问题说明", keywords="画面", question="客户反映画面异常。")
    assert card.article_id in _ids("卡")  # kept, not dropped
    assert _ids("画面 卡")[0] == picture.article_id  # a two-character word outweighs a single character


def test_homophone_typos_find_the_meant_word(make_published):
    """The input method's wrong pick (same pinyin, one character shared) finds the word this knowledge base uses."""
    share = make_published(
        title="会议中如何共享屏幕", keywords="共享 屏幕", question="客户询问会议中共享屏幕。"
    )
    bill = make_published(title="欠费停机后如何恢复", keywords="欠费 停机", question="客户欠费后停机。")
    make_published(title="资费计收规则", keywords="计收 回访", question="手机收不到验证码怎么办，回访客户。")
    assert ("欠废", "欠费") in search.typo_terms("欠废")
    assert _ids("欠废")[:1] == [bill.article_id]  # the typo alone, nothing else to go on
    assert _ids("共想屏幕")[:1] == [share.article_id]
    # a query word this knowledge base knows is not re-read across its boundary (手机|收 is not 计收) ...
    assert search.typo_terms("手机收不到验证码") == []
    # ... and a real word is left alone even when no article holds it (回放 is not 回访)
    assert search.typo_terms("回放") == []


def test_lookalike_characters_share_a_distinctive_component():
    """Look-alikes share the phonetic component (斥, 敫, 氐, 寺), never only a class radical (讠, 扌, 亻)."""
    assert "拆" in search.lookalikes("诉") and "诉" in search.lookalikes("拆")
    assert (
        "缴" in search.lookalikes("激")
        and "底" in search.lookalikes("低")
        and "待" in search.lookalikes("持")
    )
    assert "议" not in search.lookalikes("诉")  # 讠 alone: a radical hundreds of characters have
    assert "打" not in search.lookalikes("拆")  # 扌 alone
    assert "顽" not in search.lookalikes("顿")  # 页 is in dozens of characters
    assert search.lookalikes("a") == () and search.lookalikes("一") == ()


def test_lookalike_typos_find_the_meant_word_at_a_low_weight(make_published):
    """投拆 (拆 looks like 诉, sounds nothing like it) finds 投诉, below an exact match and below a homophone."""
    complaint = make_published(title="客户要投诉如何处理", keywords="投诉 受理", question="客户要投诉。")
    make_published(title="拆机申请", keywords="拆机", question="客户申请拆机。")  # 拆 is a word here too
    make_published(title="终端退还说明", keywords="退还 终端", question="租用终端如何退还。")
    assert search.misspellings("投拆") == [("投拆", "投诉", search.LOOKALIKE_WEIGHT)]
    assert _ids("投拆")[:1] == [complaint.article_id]
    terms = {t.term: t.weight for t in search.expand("怎么投拆")}
    assert terms["投诉"] == search.LOOKALIKE_WEIGHT < search.TYPO_WEIGHT < 1.0
    # only words of this knowledge base are proposed: 拆 has look-alikes (诉), 机 none that make a word here
    assert search.misspellings("拆机") == []  # a word the knowledge base knows is never re-read
    # a window that sounds like a word is a homophone, not a look-alike (the homophone path goes first)
    assert search.misspellings("投素") == [("投素", "投诉", search.TYPO_WEIGHT)]


def test_a_lookalike_never_outranks_an_exact_match(make_published):
    """Two articles alike but for one word: the one holding a word as typed (账单) comes before the one that only
    the look-alike reading (投拆 -> 投诉) finds; the query names both."""
    bill = make_published(title="账单说明", keywords="账单", question="客户询问账单。")
    complaint = make_published(title="投诉说明", keywords="投诉", question="客户询问投诉。")
    ranked = _ids("投拆 账单")
    assert ranked[:2] == [bill.article_id, complaint.article_id]


def test_filler_characters_are_not_read_as_lookalikes(make_published):
    make_published(title="如何预约会议", keywords="预约 约会", question="客户想约会议。")
    assert search.misspellings("明天下午的会") == []  # 的 looks like 约, but a filler is taken as typed


def test_fillers_are_dropped(make_published):
    rev = make_published()
    terms = [t.term for t in search.expand("您好，麻烦问一下我们单位那个客户端老是登录不上去是怎么回事啊")]
    assert "麻烦" not in terms and "怎么回事" not in terms and "单位" not in terms
    assert rev.article_id in _ids("您好，麻烦问一下我们单位那个客户端老是登录不上去是怎么回事啊")
    assert not set(QUERY_STOPWORDS) & set(terms)


def test_title_outweighs_body(make_published):
    body = make_published(
        title="会议设置说明", keywords="设置", question="会议设置。", answer_agent="涉及水印等多项设置。"
    )
    title = make_published(title="如何开启水印", keywords="安全", question="客户询问截屏安全。")
    assert _ids("水印")[:2] == [title.article_id, body.article_id]


def test_synonym_groups_apply_to_queries(make_published, kb_author):
    rev = make_published(title="如何结束会议", keywords="结束会议 主持人", question="主持人如何结束会议。")
    assert rev.article_id not in _ids("挂断")
    services.synonym_group_save(actor=kb_author, words="挂断 结束会议 散会")
    assert _ids("怎么挂断")[0] == rev.article_id
    assert _ids("散会")[0] == rev.article_id


def test_a_word_straddling_two_words_does_not_trigger_a_group(make_published, kb_author):
    services.synonym_group_save(actor=kb_author, words="开会 发起会议")
    assert "发起会议" in {t.term for t in search.expand("怎么开会")}
    assert "发起会议" not in {t.term for t in search.expand("主持人离开会议")}


def test_an_article_using_two_synonyms_is_not_counted_twice(make_published, kb_author):
    both = make_published(title="退费说明", keywords="退款 退费 费用", question="退费与退款。")
    make_published(title="退费规则", keywords="退费 费用", question="退费。")

    def score(q):
        return next(h.score for h in search.search(q) if h.article_id == both.article_id)

    alone, other = score("退费"), score("退款")
    services.synonym_group_save(actor=kb_author, words="退费 退款")
    # The group is one concept: the article scores the better of its two words (the synonym at its weight),
    # not their sum.
    assert score("退费") == pytest.approx(max(alone, search.SYNONYM_WEIGHT * other), abs=1e-5)
    assert score("退费") < alone + search.SYNONYM_WEIGHT * other - 1e-3


def test_accepted_similar_questions_are_searched_like_the_title(make_published, kb_author, agent_gd):
    rev = make_published()
    assert _ids("开会时画面冻住不动") == []
    sq = services.similar_propose(
        actor=agent_gd, article_id=rev.article_id, text="开会时画面冻住不动", source_ref="T1"
    )
    assert sq is not None and sq.state == SimilarQuestion.State.PROPOSED
    assert _ids("画面冻住") == []  # proposed only: not searched yet
    services.similar_decide(actor=kb_author, similar=sq, accept=True)
    assert _ids("画面冻住") == [rev.article_id]
    assert "冻住" in SearchDoc.objects.get(article_id=rev.article_id).similar_tokens


def test_a_chat_citation_proposes_the_visitors_question(make_published, online_agent):
    """What the chat console calls when an agent cites an article: plain text + the article + the actor."""
    rev = make_published()
    article = Article.objects.get(pk=rev.article_id)
    sq = services.similar_propose(
        actor=online_agent, article=article, text="  我这边开会\n画面老是冻住  ", source_ref="C00042"
    )
    assert sq is not None and sq.state == SimilarQuestion.State.PROPOSED
    assert (sq.article_id, sq.text, sq.source_ref) == (rev.article_id, "我这边开会 画面老是冻住", "C00042")
    assert sq.proposed_by_id == online_agent.user.pk
    # the same question again, a one-character message, the title itself: nothing proposed, nothing raised
    assert (
        services.similar_propose(actor=online_agent, article=article, text="我这边开会 画面老是冻住") is None
    )
    assert services.similar_propose(actor=online_agent, article=article, text="嗯") is None
    assert services.similar_propose(actor=online_agent, article=article, text=rev.title) is None
    long = services.similar_propose(actor=online_agent, article=article, text="长" * 500)
    assert long is not None and len(long.text) == 200
    assert SimilarQuestion.objects.filter(article_id=rev.article_id).count() == 2


def test_document_frequencies_are_kept_by_indexing(make_published):
    """TermStat equals a count of the postings after publication, re-publication, re-indexing and removal."""
    from django.db import connection

    from kefu.knowledge.models import TermStat

    def counted():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT term, COUNT(*), SUM(CASE WHEN weight_faq > 0 THEN 1 ELSE 0 END) "
                "FROM knowledge_posting GROUP BY term"
            )
            return {t: (int(a), int(f)) for t, a, f in cur.fetchall()}

    def kept():
        return {t.term: (t.df_agent, t.df_faq) for t in TermStat.objects.all() if t.df_agent or t.df_faq}

    one = make_published(answer_agent="内部口径：核实工号后处理。")
    make_published(title="账单查询说明", keywords="账单", question="客户询问账单。")
    assert kept() == counted() and kept()["工号"] == (1, 0)  # the agents' answer only: not in the FAQ scope
    search.reindex_article(one.article_id)  # replaced: the old counts taken off first
    search.index_revisions(Revision.objects.filter(status="published"))
    assert kept() == counted() and kept()["工号"] == (1, 0)
    search.remove_article(one.article_id)
    assert kept() == counted() and "工号" not in kept()
    search._df_cache.clear()
    assert search._document_frequencies(["账单", "工号"], "agent", "weight_agent") == {"账单": 1, "工号": 0}
    search.reindex_all()  # every published revision again (the removed one is still published)
    assert kept() == counted() and kept()["工号"] == (1, 0)


def test_faq_scope_does_not_search_the_agents_answer(make_published):
    rev = make_published(answer_agent="内部口径：核实工号后处理。")
    assert _ids("工号") == [rev.article_id]
    assert _ids("工号", scope="faq") == []


def test_category_filter(make_published):
    a = make_published(category_code="cf_usage_login")
    b = make_published(category_code="cf_usage_bill", title="登录后账单查询")
    assert set(_ids("登录")) == {a.article_id, b.article_id}
    assert _ids("登录", category_code="cf_usage_bill") == [b.article_id]


# ---------------------------------------------------------------- one ranking, whatever the database


def _reference(q: str, scope: str = "agent") -> list[int]:
    """BM25 recomputed in Python from the stored segmented text, not from the postings."""
    docs = list(SearchDoc.objects.all())
    weights = {
        "title_tokens": search.W_TITLE,
        "similar_tokens": search.W_TITLE,
        "keyword_tokens": search.W_KEYWORDS,
        "question_tokens": search.W_QUESTION,
        "customer_tokens": search.W_ANSWER,
    }
    if scope == "agent":
        weights["agent_tokens"] = search.W_ANSWER
    tf: dict[int, dict[str, float]] = {}
    length: dict[int, int] = {}
    for d in docs:
        counts: dict[str, float] = defaultdict(float)
        n = 0
        for field, w in weights.items():
            for t in getattr(d, field).split():
                counts[t] += w
                n += 1
        tf[d.article_id], length[d.article_id] = counts, n
    avg = sum(length.values()) / len(length)
    terms = search.expand(q)
    df = {t.term: sum(1 for c in tf.values() if c.get(t.term)) for t in terms}
    scores: dict[int, float] = {}
    for a, counts in tf.items():
        best: dict[str, float] = {}
        for t in terms:
            f = counts.get(t.term, 0.0)
            if not f or t.term in QUERY_STOPWORDS:
                continue
            idf = math.log(1 + (len(docs) - df[t.term] + 0.5) / (df[t.term] + 0.5))
            s = (
                t.weight
                * idf
                * f
                * (search.K1 + 1)
                / (f + search.K1 * (1 - search.B + search.B * length[a] / avg))
            )
            best[t.concept] = max(best.get(t.concept, 0.0), s)
        if best:
            scores[a] = round(sum(best.values()), 6)
    return [a for a, _ in sorted(scores.items(), key=lambda kv: (-kv[1], -kv[0]))][:10]


def test_sql_ranking_matches_the_reference(kb_author):
    """Same top five as an independent BM25 on at least 95% of the evaluation queries (both halves)."""
    _publish_all(kb_author.user, ARTICLES)
    services.synonyms_seed(actor=kb_author)
    judged = relevance.load_eval()
    same = 0
    for j in judged:
        if _ids(j.query)[:5] == _reference(j.query)[:5]:
            same += 1
    assert same / len(judged) >= 0.95, same
    assert SynonymGroup.objects.count() > 50


def test_indexing_locks_the_articles_it_replaces_first(make_published):
    """Two processes re-indexing one article must not both subtract its old counts: the article's row is
    locked before its old postings are read (PostgreSQL; SQLite serialises writers itself)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    one = make_published(answer_agent="内部口径：核实工号后处理。")
    with CaptureQueriesContext(connection) as ctx:
        search.reindex_article(one.article_id)
        search.remove_article(one.article_id)
    sqls = [q["sql"] for q in ctx.captured_queries]
    reads = [
        i for i, q in enumerate(sqls) if "knowledge_posting" in q and q.lstrip().upper().startswith("SELECT")
    ]
    locks = [i for i, q in enumerate(sqls) if "knowledge_article" in q and "FOR UPDATE" in q.upper()]
    if connection.features.has_select_for_update:
        assert len(locks) == 2 and len(reads) == 2
        assert locks[0] < reads[0] and locks[1] < reads[1]
