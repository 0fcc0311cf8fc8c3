"""The labelled relevance set: Chinese queries with the demo article each should find.

``load()`` returns ``[(query, key)]``; keys are those of ``kefu.knowledge.demo_articles.ARTICLES``.
``recall_at(k, rank)`` computes recall@k for a ranking function ``rank(query) -> [key, ...]``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

QUERIES = Path(__file__).with_name("queries.tsv")


def load() -> list[tuple[str, str]]:
    out = []
    for line in QUERIES.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        query, key = line.split("\t")
        out.append((query.strip(), key.strip()))
    return out


def recall_at(k: int, rank: Callable[[str], list[str]]) -> tuple[float, list[tuple[str, str, list[str]]]]:
    """Share of queries whose expected article is in the top ``k``; also the misses."""
    pairs = load()
    misses = []
    for query, key in pairs:
        got = rank(query)[:k]
        if key not in got:
            misses.append((query, key, got))
    return 1 - len(misses) / len(pairs), misses


# ---------------------------------------------------------------- the evaluation set (eval.tsv)

EVAL = Path(__file__).with_name("eval.tsv")


@dataclass(frozen=True)
class Judged:
    query: str
    kind: str
    keys: frozenset[str]

    @property
    def half(self) -> str:
        return half(self.query)


def half(query: str) -> str:
    """``tune`` or ``test``, fixed by a hash of the query (not by its position, so adding queries moves none)."""
    return "test" if hashlib.sha256(query.encode()).digest()[0] % 2 else "tune"


def load_eval(which: str | None = None) -> list[Judged]:
    """The judged queries; ``which`` = ``tune`` or ``test`` for one half."""
    out = []
    for line in EVAL.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        query, kind, keys = line.split("\t")
        j = Judged(query.strip(), kind.strip(), frozenset(k.strip() for k in keys.split(",")))
        if which is None or j.half == which:
            out.append(j)
    return out


def score(judged: list[Judged], rank: Callable[[str], list[str]]) -> dict[str, dict[str, float]]:
    """recall@5 (a relevant article in the top five) and MRR@10, overall and per query type.

    Returns ``{kind: {"n": .., "recall@5": .., "mrr@10": .., "empty": ..}}`` with kind ``all`` for the whole.
    """
    rows: dict[str, list[tuple[float, float, float]]] = {}
    for j in judged:
        got = rank(j.query)[:10]
        first = next((i for i, k in enumerate(got) if k in j.keys), None)
        r5 = 1.0 if first is not None and first < 5 else 0.0
        rr = 1.0 / (first + 1) if first is not None else 0.0
        for kind in (j.kind, "all"):
            rows.setdefault(kind, []).append((r5, rr, 0.0 if got else 1.0))
    return {
        kind: {
            "n": len(v),
            "recall@5": round(sum(a for a, _, _ in v) / len(v), 3),
            "mrr@10": round(sum(b for _, b, _ in v) / len(v), 3),
            "empty": sum(c for _, _, c in v),
        }
        for kind, v in rows.items()
    }
