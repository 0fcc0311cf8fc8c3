"""Chinese segmentation for the search index and for queries (jieba + a telecom dictionary).

Index and query go through the same function, so whatever jieba decides a word
is, both sides agree. ``cut_for_search`` also emits the dictionary words inside
longer ones (客户端 → 客户, 客户端), which is what lets two-character queries
such as 登录 or 账单 find 无法登录 and 月账单.
"""

from __future__ import annotations

import functools
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

# Words that carry no meaning in a customer's question; dropped from queries (and never indexed as terms).
# Pronouns, particles, question words, politeness, time fillers and the service's own boilerplate: in a
# colloquial sentence (您好，麻烦问一下我们单位那个会议老是卡怎么回事) these are the rare-looking words that
# would otherwise outrank the real ones.
_FILLERS = """
的 了 吗 呢 吧 啊 呀 哦 嗯 哈 哎 喂 嘛 么 呗 哇 啦 咯 噢 唉 诶 欸 着 过 得 地 之 其 而 并 且
是 我 我们 我的 我们的 咱 咱们 你 你们 您 他 她 它 他们 她们 它们 人家 大家 自己 别人
在 有 和 与 及 或 或者 也 都 就 还 还是 要 想 想要 请问 请 请教 麻烦 劳驾 帮忙 帮 帮我 帮帮 给 让 把 被 对 跟 向 从 到 为 以 用
怎么 怎么办 怎么样 怎样 如何 什么 啥 咋 咋办 咋回事 咋整 咋弄 为什么 为啥 为何 干嘛 哪里 哪儿 哪 哪个 哪些 多少 几 几个
怎么回事 怎么搞 怎么弄 怎么整 怎么操作 是不是 能不能 可不可以 有没有 会不会 要不要 行不行 对不对 好不好
能 能否 可以 可否 是否 会 应该 需要 需 得以 不 没 没有 别
一下 一个 一些 一点 有点 有些 这个 那个 这 那 这样 那样 这么 那么 这种 那种 这边 那边 这里 那里 的话
时候 时 现在 今天 昨天 刚才 刚刚 刚 最近 突然 一直 老是 总是 总 老 经常 又 再 才 已经 马上 赶紧 尽快 急 着急 好急
好像 感觉 觉得 似乎 可能 应该是 大概 反正 其实 然后 但是 可是 不过 因为 所以 如果 虽然 就是 而且 并且
很 挺 太 非常 特别 比较 真 真的 好 行 搞 弄 整 做 弄下 搞下 看看 看下 看一下 问 问下 问一下 问问 说 说下 告诉 知道 了解 咨询下
您好 你好 喂喂 谢谢 感谢 多谢 不好意思 抱歉 拜托 师傅 老师 客服 美女 帅哥 同志 领导 同事 公司 单位 我司 贵司
问题 情况 事 事情 东西 处理 办理 解决 客户 用户 反映 反馈 咨询 来电 致电 表示 称 说明 一样
"""
QUERY_STOPWORDS = frozenset(_FILLERS.split())

# A single-character word (卡, 慢, 退) is kept in the query at this weight: it still counts, but never
# outranks a real two-character term.
SINGLE_CHAR_WEIGHT = 0.3


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
    """Index tokens of ``text``: search-mode segmentation, words only, lower-cased.

    jieba segments each block between punctuation on its own (``jieba.re_han_default``), so segmenting the
    blocks one by one gives the same tokens as the whole text; a block seen before (service boilerplate
    repeated across articles, a query typed again) is not segmented twice.
    """
    if not text:
        return []
    out: list[str] = []
    for block in _BLOCK.split(text):
        if block:
            out.extend(_block_tokens(block))
    return out


_BLOCK = jieba.re_han_default


@functools.lru_cache(maxsize=100_000)
def _block_tokens(block: str) -> tuple[str, ...]:
    return tuple(t.lower() for t in tokenizer().cut_for_search(block) if _WORD.fullmatch(t))


def segment(text: str) -> str:
    return " ".join(tokens(text))


def query_terms(query: str, *, max_terms: int = 12) -> list[str]:
    """The distinct meaningful terms of a query (fillers dropped), in order of appearance.

    Single-character words are kept (they get a low weight in ranking: ``SINGLE_CHAR_WEIGHT``).
    """
    seen: dict[str, None] = {}
    for t in tokens(query[:500]):
        if t not in QUERY_STOPWORDS:
            seen.setdefault(t, None)
    terms = list(seen)
    if len(terms) > max_terms:  # prefer the longer (more specific) words
        keep = set(sorted(terms, key=lambda t: -len(t))[:max_terms])
        terms = [t for t in terms if t in keep]
    return terms
