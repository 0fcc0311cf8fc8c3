"""Text normalisation for the phrase check (pure functions, no database).

An agent (or a habit) can hide a phrase with spaces or symbols between the
characters, full-width letters, traditional characters or repeated
punctuation. ``fold`` maps every character to a canonical form (NFKC, lower
case, traditional → simplified by OpenCC's character table) and ``compact``
keeps only letters, digits and Chinese characters, remembering where each kept
character came from so that a hit can be shown as the agent typed it.
Sentence punctuation is kept apart (``SENTENCE``) for the patterns with a gap,
whose gap must not run across a sentence end.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SENTENCE = "|"
_SENTENCE_MARKS = frozenset("。！？!?；;…\n")
# Variants OpenCC's table does not fold but writers use for the same word.
_EXTRA = {"妳": "你", "祢": "你", "沒": "没", "麽": "么", "甚": "什"}


@lru_cache(maxsize=1)
def t2s_table() -> dict[int, str]:
    """Traditional → simplified, one character to one (OpenCC's TSCharacters, first candidate)."""
    import opencc

    path = Path(opencc.__file__).with_name("dictionary") / "TSCharacters.txt"
    table: dict[int, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and len(parts[0]) == 1:
            target = parts[1].split(" ")[0]
            if len(target) == 1:
                table[ord(parts[0])] = target
    for src, dst in _EXTRA.items():
        table[ord(src)] = dst
    return table


def fold(text: str) -> str:
    """Same length as ``text`` when nothing decomposes; use ``compact`` for positions."""
    return unicodedata.normalize("NFKC", text).lower().translate(t2s_table())


@dataclass(frozen=True)
class Compacted:
    text: str  # letters, digits, Chinese characters only
    positions: tuple[int, ...]  # index in the original text of each character of ``text``
    sentences: str  # like ``text`` but with SENTENCE where a sentence ended
    sentence_positions: tuple[int, ...]


_DROP = ""
_char_cache: dict[str, str] = {}


def _canon(ch: str) -> str:
    """One character's canonical form: itself folded, SENTENCE, or "" (dropped)."""
    c = unicodedata.normalize("NFKC", ch)[:1] or ch
    if c.isalnum():
        return c.lower().translate(t2s_table())
    if ch in _SENTENCE_MARKS or c in _SENTENCE_MARKS:
        return SENTENCE
    return _DROP


def compact(text: str) -> Compacted:
    cache = _char_cache
    kept: list[str] = []
    pos: list[int] = []
    skept: list[str] = []
    spos: list[int] = []
    last_sentence = True
    for i, ch in enumerate(text):
        c = cache.get(ch)
        if c is None:
            c = _canon(ch)
            if len(cache) < 50_000:
                cache[ch] = c
        if not c:
            continue
        if c == SENTENCE:
            if not last_sentence:
                skept.append(c)
                spos.append(i)
                last_sentence = True
            continue
        last_sentence = False
        kept.append(c)
        pos.append(i)
        skept.append(c)
        spos.append(i)
    return Compacted("".join(kept), tuple(pos), "".join(skept), tuple(spos))


def compact_pattern(pattern: str) -> str:
    """A lexicon pattern in the same canonical form (``…`` gaps kept)."""
    out = []
    for piece in split_gaps(pattern):
        out.append(compact(piece).text)
    return GAP.join(out)


GAP = "…"
_GAP_SPELLINGS = ("...", "……", "…", "*")


def split_gaps(pattern: str) -> list[str]:
    p = pattern
    for g in _GAP_SPELLINGS:
        p = p.replace(g, "\x00")
    return p.split("\x00")
