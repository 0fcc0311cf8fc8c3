"""Chinese segmentation for the search index and for queries (jieba + a telecom dictionary).

Index and query go through the same function, so whatever jieba decides a word
is, both sides agree. ``cut_for_search`` also emits the dictionary words inside
longer ones (客户端 → 客户, 客户端), which is what lets two-character queries
such as 登录 or 账单 find 无法登录 and 月账单.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

import jieba

DICT_PATH = Path(__file__).with_name("telecom_dict.txt")
_WORD = re.compile(r"[^\W_]+")
_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_idf: dict[str, float] | None = None

# Words that carry no meaning in a customer's question; dropped from queries only.
QUERY_STOPWORDS = frozenset(
    ["的", "了", "吗", "呢", "吧", "啊", "是", "我", "我们", "你", "你们", "他", "她", "它", "在", "有", "和", "与", "及", "或", "也", "都", "就", "还", "要", "想", "请问", "请", "怎么", "怎么办", "怎样", "如何", "什么", "为什么", "为何", "哪里", "哪个", "哪些", "多少", "几", "能", "能否", "可以", "可否", "是否", "会", "不", "没", "没有", "一下", "一个", "这个", "那个", "这", "那", "时候", "问题", "情况", "处理", "办理", "客户", "用户", "反映", "反馈", "咨询", "需要", "来电", "致电", "表示"]
)


def tokenizer() -> jieba.Tokenizer:
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.load_userdict(str(DICT_PATH))
                _tokenizer = tok
    return _tokenizer


def tokens(text: str) -> list[str]:
    """Index tokens of ``text``: search-mode segmentation, words only, lower-cased."""
    if not text:
        return []
    return [t.lower() for t in tokenizer().cut_for_search(text) if _WORD.fullmatch(t)]


def segment(text: str) -> str:
    return " ".join(tokens(text))


DEFAULT_IDF = 10.0  # for words missing from jieba's table: treat as specific


def idf_table() -> dict[str, float]:
    global _idf
    if _idf is None:
        import jieba.analyse

        _idf = dict(jieba.analyse.default_tfidf.idf_freq)
    return _idf


def query_terms(query: str, *, max_terms: int = 8) -> list[str]:
    """The distinct meaningful terms of a query, the most specific first when there are too many."""
    seen: dict[str, None] = {}
    for t in tokens(query[:500]):
        seen.setdefault(t, None)
    terms = [t for t in seen if t not in QUERY_STOPWORDS and (len(t) > 1 or not t.isascii() and len(seen) == 1)]
    if not terms:
        terms = [t for t in seen if t not in QUERY_STOPWORDS] or list(seen)
    if len(terms) > max_terms:
        idf = idf_table()
        terms = sorted(terms, key=lambda t: (-(idf.get(t, DEFAULT_IDF)), -len(t)))[:max_terms]
    return terms
