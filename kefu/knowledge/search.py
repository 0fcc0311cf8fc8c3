"""Full-text search over published articles: one code path, the SQL chosen by backend.

Index: ``index_articles`` writes the jieba-segmented text of each article's
published revision into ``SearchDoc`` and then into the backend's index
(PostgreSQL: weighted tsvectors computed in SQL from those columns, one of
the head only, all GIN-indexed;
SQLite: an FTS5 row with the same columns). Query: ``query_terms`` segments the
query the same way; all terms must match first (AND); when that gives too few
hits the rest are filled by matches of all terms but one, then of each term
alone, the most specific (highest IDF) first.
Within each step the articles matching in the head (title, keywords,
question) come first, then the others (on PostgreSQL among at most
``CANDIDATES`` matches, so a common word never makes a query rank most of the
corpus); each list ranked by the engine (ts_rank with weights title A, keywords/question B, answers C; FTS5 bm25
with the same column weights).

Scopes: ``agent`` searches everything an agent sees; ``faq`` searches only
what the public FAQ shows (title, keywords, question, customer answer).

Snippets are built in Python on both backends from the stored text: escape
first, then wrap matches in ``<mark>``, so HTML in the content stays inert.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from kefu.core.errors import ValidationFailed

from .models import Article, Revision, SearchDoc
from .segment import DEFAULT_IDF, idf_table, query_terms, segment

SCOPES = ("agent", "faq")
MAX_LIMIT = 50


@dataclass(frozen=True)
class SearchHit:
    article_id: int
    revision_id: int
    code: str
    title: str
    title_html: SafeString
    snippet_html: SafeString
    category_code: str
    score: float
    revision: Revision


# ---------------------------------------------------------------- indexing

def _doc_for(rev: Revision) -> SearchDoc:
    return SearchDoc(
        article_id=rev.article_id, revision_id=rev.pk, category_code=rev.category_code,
        title_tokens=segment(rev.title), keyword_tokens=segment(" ".join(rev.keyword_list)),
        question_tokens=segment(rev.question), agent_tokens=segment(rev.answer_agent),
        customer_tokens=segment(rev.answer_customer),
    )


PG_UPDATE = """
UPDATE knowledge_searchdoc SET
  doc_agent = setweight(to_tsvector('simple', title_tokens), 'A')
           || setweight(to_tsvector('simple', keyword_tokens || ' ' || question_tokens), 'B')
           || setweight(to_tsvector('simple', agent_tokens || ' ' || customer_tokens), 'C'),
  doc_head = setweight(to_tsvector('simple', title_tokens), 'A')
           || setweight(to_tsvector('simple', keyword_tokens || ' ' || question_tokens), 'B'),
  doc_public = setweight(to_tsvector('simple', title_tokens), 'A')
           || setweight(to_tsvector('simple', keyword_tokens || ' ' || question_tokens), 'B')
           || setweight(to_tsvector('simple', customer_tokens), 'C')
WHERE article_id = ANY(%s)
"""


def index_revisions(revisions: Iterable[Revision], *, batch: int = 500) -> int:
    """(Re)index published revisions, replacing each article's previous entry. Returns the count."""
    count = 0
    chunk: list[Revision] = []
    for rev in revisions:
        chunk.append(rev)
        if len(chunk) >= batch:
            count += _index_chunk(chunk)
            chunk = []
    if chunk:
        count += _index_chunk(chunk)
    return count


def _index_chunk(revisions: Sequence[Revision]) -> int:
    docs = [_doc_for(r) for r in revisions]
    ids = [d.article_id for d in docs]
    with transaction.atomic():
        _remove(ids)
        SearchDoc.objects.bulk_create(docs)
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                cur.execute(PG_UPDATE, [ids])
            else:
                cur.executemany(
                    "INSERT INTO knowledge_search_fts(rowid, title, keywords, question, answer_agent, answer_customer)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    [(d.article_id, d.title_tokens, d.keyword_tokens, d.question_tokens, d.agent_tokens,
                      d.customer_tokens) for d in docs],
                )
    return len(docs)


def index_revision(rev: Revision) -> None:
    index_revisions([rev])


def _remove(article_ids: list[int]) -> None:
    SearchDoc.objects.filter(article_id__in=article_ids).delete()
    if connection.vendor != "postgresql" and article_ids:
        with connection.cursor() as cur:
            for i in range(0, len(article_ids), 500):
                part = article_ids[i:i + 500]
                cur.execute(
                    f"DELETE FROM knowledge_search_fts WHERE rowid IN ({','.join(['%s'] * len(part))})", part  # noqa: S608
                )


def remove_article(article_id: int) -> None:
    _remove([article_id])


def reindex_all() -> int:
    """Rebuild the whole index from the published revisions (the ``kb_reindex`` command)."""
    with transaction.atomic():
        SearchDoc.objects.all().delete()
        if connection.vendor != "postgresql":
            with connection.cursor() as cur:
                cur.execute("DELETE FROM knowledge_search_fts")
    revs = Revision.objects.filter(pk__in=Article.objects.exclude(published_revision=None)
                                   .values("published_revision")).iterator(chunk_size=1000)
    return index_revisions(revs)


# ---------------------------------------------------------------- querying

def _expression(groups: list[list[str]], postgres: bool) -> str:
    """(a AND b) OR (a AND c) ... in the engine's syntax; terms are word characters only, so quoting is safe."""
    and_, or_, quote = (" & ", " | ", "'") if postgres else (" AND ", " OR ", '"')
    return or_.join("(" + and_.join(f"{quote}{t}{quote}" for t in g) + ")" for g in groups)


# A word in most articles must not make one query rank them all: each ranked list considers at most
# this many candidates.
CANDIDATES = 1000
# Below this IDF (jieba's table: 会议 4.9, 设置 6.3, 终端 7.7; 登录 8.3, 账单 9.9) a word is common.
COMMON_IDF = 8.0


def _pg_ranked(groups: list[list[str]], scope: str, limit: int, category_code: str | None,
               exclude: Sequence[int], *, head_only: bool) -> list[tuple[int, float]]:
    doc = "doc_public" if scope == "faq" else "doc_agent"
    match = "doc_head" if head_only else doc
    params: list[Any] = [_expression(groups, postgres=True)]
    where = [match + " @@ (SELECT q FROM query)"]  # noqa: S608 (a constant column name)
    if category_code:
        where.append("substr(category_code, 1, %s) = %s")  # the code and every code under it
        params += [len(category_code), category_code]
    if exclude:
        where.append("NOT (article_id = ANY(%s))")
        params.append(list(exclude))
    params += [CANDIDATES, limit]
    # Column names are constants chosen above; every value is a parameter.
    sql = ("WITH query AS (SELECT to_tsquery('simple', %s) AS q), "  # noqa: S608
           "candidates AS (SELECT article_id, {doc} AS doc FROM knowledge_searchdoc WHERE {where} LIMIT %s) "
           "SELECT article_id, ts_rank(doc, (SELECT q FROM query)) AS r FROM candidates "
           "ORDER BY r DESC, article_id DESC LIMIT %s").format(doc=doc, where=" AND ".join(where))  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [(int(a), float(r)) for a, r in cur.fetchall()]


def _sqlite_ranked(groups: list[list[str]], scope: str, limit: int, category_code: str | None,
                   exclude: Sequence[int], *, head_only: bool) -> list[tuple[int, float]]:
    expr = _expression(groups, postgres=False)
    if head_only:
        expr = "{title keywords question} : (" + expr + ")"
    elif scope == "faq":
        expr = "{title keywords question answer_customer} : (" + expr + ")"
    sql = ["SELECT f.rowid, bm25(knowledge_search_fts, 10.0, 4.0, 4.0, 1.0, 1.0) AS r"
           " FROM knowledge_search_fts f"]
    params: list[Any] = []
    if category_code:
        sql.append("JOIN knowledge_searchdoc d ON d.article_id = f.rowid")
    sql.append("WHERE knowledge_search_fts MATCH %s")
    params.append(expr)
    if category_code:
        sql.append("AND substr(d.category_code, 1, %s) = %s")  # the code and every code under it
        params += [len(category_code), category_code]
    if exclude:
        sql.append(f"AND f.rowid NOT IN ({','.join(['%s'] * len(exclude))})")
        params += list(exclude)
    sql.append("ORDER BY r, f.rowid DESC LIMIT %s")
    params.append(limit)
    with connection.cursor() as cur:
        cur.execute(" ".join(sql), params)
        # bm25 is "lower is better" and negative; report a positive score.
        return [(int(a), -float(r)) for a, r in cur.fetchall()]


def ranked_ids(q: str, *, scope: str = "agent", limit: int = 10, category_code: str | None = None,
               terms: list[str] | None = None) -> list[tuple[int, float]]:
    """Article ids with scores, best first: all-terms matches, then any-term matches."""
    terms = query_terms(q) if terms is None else terms
    if not terms:
        return []
    ranked = _pg_ranked if connection.vendor == "postgresql" else _sqlite_ranked
    hits: list[tuple[int, float]] = []
    idf = idf_table()
    for groups in _relaxations(terms):
        # Matches in the head (title, keywords, question) first: the strongest signal, and few even for a
        # word found in most articles; then the bodies. A common word alone (one term of a longer query)
        # is only looked for in the head: in the bodies it would match most of the corpus.
        single = len(groups) == 1 and len(groups[0]) == 1 and len(terms) > 1
        common = single and idf.get(groups[0][0], DEFAULT_IDF) < COMMON_IDF
        for head_only in (True,) if common else (True, False):
            hits += ranked(groups, scope, limit - len(hits), category_code, [a for a, _ in hits],
                           head_only=head_only)
            if len(hits) >= limit:
                return hits
    return hits


def _relaxations(terms: list[str]) -> list[list[list[str]]]:
    """All terms; then all but one (for 3 to 6 terms); then each term alone, the most specific first.

    ts_rank knows no inverse document frequency, so the any-term step asks for the rarest word
    (jieba's IDF table) before the common ones instead of OR-ing them together.
    """
    steps = [[terms]]
    if 3 <= len(terms) <= 6:
        steps.append([terms[:i] + terms[i + 1:] for i in range(len(terms))])
    if len(terms) > 1:
        idf = idf_table()
        steps += [[[t]] for t in sorted(terms, key=lambda t: -idf.get(t, DEFAULT_IDF))]
    return steps


def search(q: str, *, scope: str = "agent", limit: int = 10, category_code: str | None = None) -> list[SearchHit]:
    """Published articles matching ``q``, best first, with highlighted, HTML-safe title and snippet.

    Used by the knowledge pages, the public FAQ (``scope="faq"``), the API and
    the tickets app's suggestions.
    """
    if scope not in SCOPES:
        raise ValidationFailed("检索范围无效(agent 或 faq)。", "Invalid search scope (agent or faq).",
                               details={"field": "scope"})
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"返回条数须在 1 到 {MAX_LIMIT} 之间。", f"limit must be between 1 and {MAX_LIMIT}.",
                               details={"field": "limit"})
    terms = query_terms((q or "").strip())
    hits = ranked_ids(q, scope=scope, limit=limit, category_code=category_code, terms=terms)
    if not hits:
        return []
    # Only the published revision counts (a hit indexed a moment before a newer publication is skipped).
    revs = {r.article_id: r for r in Revision.objects.filter(
        article_id__in=[a for a, _ in hits], status="published").order_by()}
    pattern = _pattern(terms)
    out = []
    for article_id, score in hits:
        rev = revs.get(article_id)
        if rev is None:
            continue
        answer = rev.answer_customer if scope == "faq" else rev.answer_agent
        out.append(SearchHit(
            article_id=article_id, revision_id=rev.pk, code=f"KB{article_id:06d}", title=rev.title,
            title_html=highlight(rev.title, terms, pattern), snippet_html=snippet(answer + "\n" + rev.question, terms, pattern=pattern),
            category_code=rev.category_code, score=round(score, 6), revision=rev,
        ))
    return out


# ---------------------------------------------------------------- highlighting

@functools.lru_cache(maxsize=512)
def _pattern_for(parts: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(p) for p in parts), re.IGNORECASE)


def _pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    parts = sorted({t for t in terms if t}, key=len, reverse=True)
    if not parts:
        return None
    return _pattern_for(tuple(parts))


def highlight(text: str, terms: Sequence[str], pattern: re.Pattern[str] | None = None) -> SafeString:
    """``text`` escaped, with the terms wrapped in <mark>. Safe whatever ``text`` holds."""
    pattern = pattern or _pattern(terms)
    if pattern is None:
        return mark_safe(escape(text))  # noqa: S308 (escaped)
    out: list[str] = []
    pos = 0
    for m in pattern.finditer(text):
        out.append(escape(text[pos:m.start()]))
        out.append("<mark>" + escape(m.group(0)) + "</mark>")
        pos = m.end()
    out.append(escape(text[pos:]))
    return mark_safe("".join(out))  # noqa: S308 (every piece escaped)


def snippet(text: str, terms: Sequence[str], *, width: int = 90,
            pattern: re.Pattern[str] | None = None) -> SafeString:
    """A window of ``text`` around the first match, highlighted and escaped."""
    text = " ".join(text.split())
    pattern = pattern or _pattern(terms)
    start = 0
    if pattern is not None:
        m = pattern.search(text)
        if m is not None:
            start = max(0, m.start() - width // 3)
    window = text[start:start + width]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(text) else ""
    return mark_safe(escape(prefix) + highlight(window, terms, pattern) + escape(suffix))  # noqa: S308
