"""The demo knowledge base loads, covers every workflow state and makes search meaningful."""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone

from kefu.knowledge import demo, relevance, search
from kefu.knowledge.models import Article, LoadReceipt, Revision
from kefu.org import demo as org_demo

pytestmark = pytest.mark.django_db


@dataclass
class Ctx:  # the shape of kefu.demo.loader.DemoContext (knowledge may not import kefu.demo)
    now: Any
    rng: random.Random
    out: Any = sys.stdout
    password: str = "kefu-demo-2026"
    scale: int = 1
    shared: dict[str, Any] = field(default_factory=dict)

    def progress(self, step: str, done: int, total: int) -> None:
        pass


def test_demo_loads_every_state_and_search_finds_it():
    ctx = Ctx(now=timezone.now(), rng=random.Random(1))
    org_demo.load(ctx)
    demo.load(ctx)
    assert Article.objects.count() >= 60
    states = set(Revision.objects.values_list("status", flat=True))
    assert {
        "draft",
        "submitted",
        "checked",
        "confirmed",
        "scheduled",
        "published",
        "returned",
        "retired",
    } <= states
    assert Revision.objects.filter(late_submission=True).exists()
    assert LoadReceipt.objects.unscoped("test").filter(loaded_at__isnull=False, province__slug="gd").exists()
    assert LoadReceipt.objects.unscoped("test").filter(loaded_at__isnull=True).exists()
    demo.load(ctx)  # idempotent
    assert Article.objects.count() == len(ctx.shared["knowledge_articles"])

    keys = {v: k for k, v in ctx.shared["knowledge_articles"].items()}
    published_keys = {
        keys[a] for a in Article.objects.exclude(published_revision=None).values_list("pk", flat=True)
    }

    def rank(q: str) -> list[str]:
        return [keys[h.article_id] for h in search.search(q, limit=5)]

    pairs = [(q, k) for q, k in relevance.load() if k in published_keys]
    hits = sum(1 for q, k in pairs if k in rank(q))
    assert hits / len(pairs) >= 0.9, [(q, k, rank(q)) for q, k in pairs if k not in rank(q)]
