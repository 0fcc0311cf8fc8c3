"""The labelled relevance set: Chinese queries with the demo article each should find.

``load()`` returns ``[(query, key)]``; keys are those of ``kefu.knowledge.demo_articles.ARTICLES``.
``recall_at(k, rank)`` computes recall@k for a ranking function ``rank(query) -> [key, ...]``.
"""

from __future__ import annotations

from collections.abc import Callable
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
