"""The one phrase check for every text an agent sends to a customer.

``check_text(text, channel=...)`` returns a ``CheckResult`` listing every rule
of the lexicon in force that the text breaks. It reads no database when the
compiled lexicon is already in this process; the lexicon is compiled once per
version (``compiled()``), and a new version is picked up by the next check.

Matching works on the compacted text (``normalize.compact``), so inserted
spaces/symbols, full-width forms, traditional characters and repeated
punctuation change nothing. A literal phrase found inside a longer word
(jieba's segmentation of the surrounding text has a word that crosses the
phrase's start or end, e.g. 有病 in 有病毒) is not a hit; each rule can also
list exception words. Patterns with a gap (``你不会…吗``) allow up to
``GAP_MAX`` characters in the gap, never across a sentence end.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .normalize import GAP, SENTENCE, Compacted, compact, compact_pattern

GAP_MAX = 12
_WINDOW = 6  # characters of context either side given to jieba


class Channel:
    TICKET = "ticket"  # work-order replies
    CHAT = "chat"  # online service
    MAIL = "mail"
    HOTLINE = "hotline"  # a script read out on the phone
    ALL = (TICKET, CHAT, MAIL, HOTLINE)
    ONLINE = frozenset({CHAT})


@dataclass(frozen=True)
class RuleData:
    """A rule as the check needs it (also built from lexicon rows or import rows)."""

    id: int
    category: str
    severity: str
    pattern: str
    suggestion: str
    applies_to: str = "all"
    exceptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    rule_id: int
    category: str
    severity: str
    pattern: str
    phrase: str  # as the agent typed it
    suggestion: str
    start: int  # in the original text
    end: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule_id,
            "category": self.category,
            "severity": self.severity,
            "pattern": self.pattern,
            "phrase": self.phrase,
            "suggestion": self.suggestion,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True)
class CheckResult:
    hits: tuple[Hit, ...] = ()
    version: int | None = None  # lexicon version number

    @property
    def blocked(self) -> bool:
        return any(h.severity == "block" for h in self.hits)

    @property
    def warned(self) -> bool:
        return any(h.severity == "warn" for h in self.hits)

    @property
    def clean(self) -> bool:
        return not self.hits

    @property
    def outcome(self) -> str:
        return "block" if self.blocked else "warn" if self.warned else "ok"

    def of(self, severity: str) -> list[Hit]:
        return [h for h in self.hits if h.severity == severity]


@dataclass
class Compiled:
    version: int | None
    token: str
    literal_re: re.Pattern[str] | None
    literals: dict[str, list[RuleData]]
    gapped: list[tuple[re.Pattern[str], RuleData]]
    exceptions: dict[int, tuple[str, ...]] = field(default_factory=dict)


def _gap_regex(pattern: str) -> re.Pattern[str]:
    pieces = pattern.split(GAP)
    # Inside a literal piece a sentence mark may stand between characters (disguise); the gap may not cross one.
    lit = [f"{re.escape(SENTENCE)}?".join(re.escape(c) for c in piece) for piece in pieces]
    return re.compile(f"[^{re.escape(SENTENCE)}]{{0,{GAP_MAX}}}?".join(lit))


def compile_rules(rules: Iterable[RuleData], *, version: int | None = None, token: str = "") -> Compiled:
    literals: dict[str, list[RuleData]] = {}
    gapped: list[tuple[re.Pattern[str], RuleData]] = []
    exceptions: dict[int, tuple[str, ...]] = {}
    for rule in rules:
        canon = compact_pattern(rule.pattern)
        if not canon.replace(GAP, ""):
            continue
        if rule.exceptions:
            exceptions[rule.id] = tuple(compact(e).text for e in rule.exceptions if compact(e).text)
        if GAP in canon:
            gapped.append((_gap_regex(canon.strip(GAP)), rule))
        else:
            literals.setdefault(canon, []).append(rule)
    literal_re = None
    if literals:
        alternation = "|".join(re.escape(p) for p in sorted(literals, key=len, reverse=True))
        literal_re = re.compile(f"(?=({alternation}))")
    return Compiled(version, token, literal_re, literals, gapped, exceptions)


_tok_lock = threading.Lock()
_tokenizer: Any = None


def _jieba() -> Any:
    global _tokenizer
    if _tokenizer is None:
        with _tok_lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.initialize()
                _tokenizer = tok
    return _tokenizer


# Characters that may follow a phrase inside one jieba word without changing what the phrase says:
# aspect particles (忙着, 说了, 看过) and the resultative complements of blame (弄坏, 弄丢, 搞错, 删掉, 改乱).
_GLUE_AFTER = frozenset("着了过坏丢错掉乱")


def _freq(word: str) -> int:
    return int(_jieba().FREQ.get(word) or 0)


def _other_reading(text: str, lo: int, hi: int, *, after: bool, rival: str) -> bool:
    """Whether the characters outside the hit also make a dictionary word at least as common as ``rival``.

    ``after``: the word starts at ``lo`` (right after the hit) and reaches ``hi`` or beyond; else it
    ends at ``hi`` (right before the hit) and starts at ``lo`` or before. jieba resolves an overlap
    (看官|网 against 看|官网) by its figures for the whole sentence; when the reading that leaves the
    phrase whole is as good a word, the phrase counts as written.
    """
    need = max(_freq(rival), 1)
    if after:
        for k in range(hi, min(len(text), lo + _WINDOW) + 1):
            if k - lo >= 2 and _freq(text[lo:k]) >= need:
                return True
    else:
        for k in range(lo, max(0, hi - _WINDOW) - 1, -1):
            if hi - k >= 2 and _freq(text[k:hi]) >= need:
                return True
    return False


def inside_longer_word(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is part of a longer word (有病 in 有病毒, 自己看 in 自己看到).

    jieba segments a window around the hit; a word crossing the hit's start or end makes it part of
    that word, except when (1) the crossing word is the hit's last character followed by an aspect
    particle, a resultative complement of blame or the same character again (忙着, 弄坏, 看看), or
    (2) the characters outside the hit form a dictionary word as common as the crossing word (the
    overlap 看官网 read as 看|官网), so jieba's choice is a coin toss the phrase should win.
    """
    lo, hi = max(0, start - _WINDOW), min(len(text), end + _WINDOW)
    at = lo
    for word in _jieba().cut(text[lo:hi], HMM=False):
        a, b = at, at + len(word)
        at = b
        if a < start < b and not _other_reading(text, a, start, after=False, rival=word):
            return True  # crosses the start
        if a < end < b:  # crosses the end
            tail = text[end:b]
            glued = len(tail) == 1 and (tail in _GLUE_AFTER or tail == text[end - 1])
            if not glued and not _other_reading(text, end, b, after=True, rival=word):
                return True
    return False


def _excepted(c: Compacted, start: int, end: int, words: tuple[str, ...]) -> bool:
    for w in words:
        for m in re.finditer(re.escape(w), c.text):
            if m.start() <= start and end <= m.end():
                return True
    return False


def _applies(rule: RuleData, channel: str) -> bool:
    return rule.applies_to == "all" or channel in Channel.ONLINE


def _original(text: str, positions: tuple[int, ...], start: int, end: int) -> tuple[int, int, str]:
    a, b = positions[start], positions[end - 1] + 1
    return a, b, text[a:b]


def run_check(text: str, lexicon: Compiled, *, channel: str) -> CheckResult:
    """The check proper: pure, given a compiled lexicon. One hit per rule (its first place)."""
    c = compact(text)
    found: dict[int, Hit] = {}
    if lexicon.literal_re is not None and c.text:
        for m in lexicon.literal_re.finditer(c.text):
            canon = m.group(1)
            s, e = m.start(1), m.end(1)
            for rule in lexicon.literals[canon]:
                if rule.id in found or not _applies(rule, channel):
                    continue
                if len(canon) > 1 and inside_longer_word(c.text, s, e):
                    continue
                if rule.id in lexicon.exceptions and _excepted(c, s, e, lexicon.exceptions[rule.id]):
                    continue
                a, b, phrase = _original(text, c.positions, s, e)
                found[rule.id] = Hit(
                    rule.id, rule.category, rule.severity, rule.pattern, phrase, rule.suggestion, a, b
                )
    for regex, rule in lexicon.gapped:
        if rule.id in found or not _applies(rule, channel):
            continue
        gm = regex.search(c.sentences)
        if gm is None:
            continue
        a, b, phrase = _original(text, c.sentence_positions, gm.start(), gm.end())
        found[rule.id] = Hit(
            rule.id, rule.category, rule.severity, rule.pattern, phrase, rule.suggestion, a, b
        )
    hits = sorted(found.values(), key=lambda h: (h.severity != "block", h.start))
    return CheckResult(tuple(hits), lexicon.version)


def check_text(text: str, *, channel: str, lexicon: Compiled | None = None) -> CheckResult:
    """Check one text against the lexicon in force (or the one given)."""
    if channel not in Channel.ALL:
        raise ValueError(f"unknown channel {channel!r}")
    if lexicon is None:
        from .lexicon import compiled

        lexicon = compiled()
    return run_check(text, lexicon, channel=channel)
