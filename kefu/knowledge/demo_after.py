"""Demo step after the work orders: what the knowledge team sees once the desks have worked for a while.

Runs the common-problem mining over the demo orders (as the daily job does, over 90 days instead of 30: the
demo's few hundred orders spread over six months are too thin for a 30-day window), and records a few searches
that found nothing (the knowledge-gap list), each several times, as agents and customers would type them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from . import mining, search, services
from .models import SearchLog

if TYPE_CHECKING:
    from kefu.demo.loader import DemoContext

# Questions the demo knowledge base does not answer (the feedback list names the first one too).
GAP_QUERIES = [
    ("会议中如何举手发言", "agent", 6),
    ("Pad端如何举手发言", "suggest", 4),
    ("年付优惠活动规则", "suggest", 3),
    ("电视墙拼接怎么设置", "faq", 3),
    ("发票抬头开错了能改吗", "faq", 2),
    ("会议室预定冲突", "agent", 2),
]


DEMO_MINING_DAYS = 90


@transaction.atomic
def load(ctx: DemoContext) -> None:
    if SearchLog.objects.exists():
        return
    for query, scope, times in GAP_QUERIES:
        found = len(search.search(query, scope="faq" if scope == "faq" else "agent", limit=10))
        for _ in range(times):
            services.search_logged(q=query, scope=scope, result_count=found)
    result = mining.mine(now=ctx.now, days=DEMO_MINING_DAYS)
    ctx.progress("knowledge common problems", result["problems"], max(result["problems"], 1))
