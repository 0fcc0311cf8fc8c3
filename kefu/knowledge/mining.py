"""Common-problem mining (第四条: analyse work orders nationwide, supplement the knowledge base).

Work orders come from whatever the tickets app registered with
``registry.register_problem_source``. Per category, samples are grouped
greedily by the overlap of their key terms (Jaccard ≥ ``SIMILARITY``); a group
with at least ``min_count`` orders whose terms no published article answers
(the best search hit shares less than half of the group's top terms) becomes a
``CommonProblem``, refreshed on every run (keyed by a signature of category and
top terms).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from kefu.core import audit

from . import search
from .models import CommonProblem
from .registry import ProblemSample, problem_samples
from .segment import query_terms, tokens

SIMILARITY = 0.3
TOP_TERMS = 6


@dataclass
class Group:
    category_code: str
    terms: Counter[str] = field(default_factory=Counter)
    samples: list[tuple[ProblemSample, frozenset[str]]] = field(default_factory=list)

    def top(self, n: int = TOP_TERMS) -> list[str]:
        return [t for t, _ in sorted(self.terms.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def _terms(text: str) -> frozenset[str]:
    return frozenset(t for t in query_terms(text, max_terms=12) if len(t) > 1)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def group_samples(samples: list[ProblemSample]) -> list[Group]:
    """Pure grouping (no database): by category, then by similar text."""
    groups: list[Group] = []
    for sample in samples:
        terms = _terms(sample.text)
        if not terms:
            continue
        best, best_sim = None, 0.0
        for g in groups:
            if g.category_code != sample.category_code:
                continue
            sim = _jaccard(terms, frozenset(g.top(10)))
            if sim > best_sim:
                best, best_sim = g, sim
        if best is None or best_sim < SIMILARITY:
            best = Group(sample.category_code)
            groups.append(best)
        best.samples.append((sample, terms))
        best.terms.update(terms)
    return groups


def is_answered(group: Group) -> bool:
    top = group.top()
    hits = search.ranked_ids(" ".join(top), scope="agent", limit=1)
    if not hits:
        return False
    from .models import SearchDoc

    doc = SearchDoc.objects.filter(article_id=hits[0][0]).first()
    if doc is None:
        return False
    words = set(tokens(" ".join([doc.title_tokens, doc.keyword_tokens, doc.question_tokens])))
    return len(words & set(top)) * 2 >= len(top)


@transaction.atomic
def mine(*, now: datetime | None = None, days: int = 30, min_count: int = 3) -> dict[str, int]:
    """Refresh the list of frequent unanswered problems from the last ``days`` days."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    samples = list(problem_samples(since, now))
    groups = [g for g in group_samples(samples) if len(g.samples) >= min_count]
    found = 0
    seen: set[str] = set()
    for g in groups:
        if is_answered(g):
            continue
        top = g.top()
        signature = (g.category_code + ":" + "|".join(sorted(top)))[:200]
        seen.add(signature)
        problem, created = CommonProblem.objects.get_or_create(
            signature=signature,
            defaults={
                "category_code": g.category_code,
                "terms": top,
                "first_seen": now,
                "last_mined_at": now,
            },
        )
        before = (problem.terms, problem.sample_count)
        problem.terms = top
        problem.sample_count = len(g.samples)
        problem.province_count = len({s.province_id for s, _ in g.samples if s.province_id})
        problem.sample_refs = [s.ref for s, _ in g.samples[:20]]
        problem.example_texts = [s.text[:300] for s, _ in g.samples[:5]]
        problem.last_mined_at = now
        problem.save()
        if created or before != (problem.terms, problem.sample_count):  # the system's finding is an event
            audit.record(
                actor=None,
                verb="kb.problem_found" if created else "kb.problem_refreshed",
                target=problem,
                data={
                    "category": g.category_code,
                    "terms": top,
                    "samples": problem.sample_count,
                    "provinces": problem.province_count,
                },
            )
        found += 1
    return {"samples": len(samples), "groups": len(groups), "problems": found}
