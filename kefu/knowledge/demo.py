"""Demo knowledge base: the articles of ``demo_articles`` in every workflow state, some loaded by some provinces.

Runs after ``kefu.org.demo`` (users) and goes through the services, so the
audit trail, receipts and search index are what real use would produce.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from kefu.org.access import actor_for
from kefu.org.models import Province, User

from . import services
from .demo_articles import ARTICLES
from .models import Article, Feedback
from .services import Content

if TYPE_CHECKING:
    from kefu.demo.loader import DemoContext

# Articles that stop at a given step instead of being published (key -> last action).
STOP_AT = {
    "meeting-subtitle": "draft",
    "meeting-watermark": "draft",
    "meeting-live": "submit",
    "security-encryption": "submit",
    "terminal-4g": "check",
    "activation-upgrade-plan": "check",
    "fault-recording-missing": "confirm",
    "termination-terminal-return": "schedule",
    "service-online": "return",
}
# Published articles that got a second published revision (to show diffs and retired versions).
REVISED = {"bill-tariff", "login-password", "meeting-capacity"}
# Content for a product release (one week lead time); the second one is urgent and late.
RELEASES = {
    "meeting-live": ("V3.5", 20, False, ""),
    "security-encryption": ("V3.5", 3, True, "监管通报要求，须随版本同步上线"),
}
FEEDBACK: list[tuple[str, str | None, str, str]] = [
    ("gd", "bill-tariff", "outdated", "广东已调整旗舰版资费，文章价格未更新"),
    ("js", "login-sms-code", "unclear", "验证码发送次数限制口径与热线不一致"),
    ("bj", None, "missing", "缺少“会议中如何举手发言”的知识"),
    ("sh", "terminal-offline", "wrong", "防火墙端口描述与 fault-network 文章不一致"),
]


def _actor(username: str) -> Any:
    return actor_for(User.objects.get(username=username))


def _content(entry: tuple[str, ...], **over: Any) -> Content:
    _key, category, title, question, agent, customer, keywords = entry
    fields: dict[str, Any] = dict(
        title=title,
        question=question,
        answer_agent=agent,
        answer_customer=customer,
        category_code=category,
        keywords=keywords,
    )
    fields.update(over)
    return Content(**fields)


def _walk(rev: Any, stop: str, actors: dict[str, Any], now: Any) -> Any:
    chain = [("author", "submit"), ("checker", "check"), ("confirmer", "confirm"), ("reviewer", "publish")]
    for who, action in chain:
        if stop == "draft":
            return rev
        if stop == "return" and action == "check":
            return services.revision_transition(
                actor=actors["checker"],
                revision=rev,
                action="return",
                comment="客户答案请补充非服务时间的留言渠道说明。",
                now=now,
            )
        if stop == "schedule" and action == "publish":
            return services.revision_transition(
                actor=actors["reviewer"],
                revision=rev,
                action="publish",
                publish_at=now + timedelta(days=1),
                now=now,
            )
        rev = services.revision_transition(actor=actors[who], revision=rev, action=action, now=now)
        if action == stop:
            return rev
    return rev


@transaction.atomic
def load(ctx: DemoContext) -> None:
    if Article.objects.exists():
        return
    now = ctx.now
    actors = {
        "author": _actor("kb_author"),
        "checker": _actor("kb_checker"),
        "confirmer": _actor("hq_confirmer"),
        "reviewer": _actor("hq_reviewer"),
    }
    ids: dict[str, int] = {}
    published = []
    for i, entry in enumerate(ARTICLES, start=1):
        key = entry[0]
        over: dict[str, Any] = {}
        if key in RELEASES:
            release, days, urgent, reason = RELEASES[key]
            over = {
                "release": release,
                "release_date": timezone.localdate(now) + timedelta(days=days),
                "urgent": urgent,
                "urgent_reason": reason,
            }
        rev = services.article_create(actor=actors["author"], content=_content(entry, **over))
        rev = _walk(rev, STOP_AT.get(key, "publish"), actors, now)
        ids[key] = rev.article_id
        if rev.status == "published":
            published.append((key, rev))
        ctx.progress("knowledge articles", i, len(ARTICLES))
    for key, rev in list(published):
        if key in REVISED:
            entry = next(e for e in ARTICLES if e[0] == key)
            new = services.revision_edit(
                actor=actors["author"],
                article=rev.article,
                content=_content(
                    entry, answer_agent=entry[4] + "\n(2026 年 11 月更新：口径与各省公示保持一致。)"
                ),
            )
            new = _walk(new, "publish", actors, now)
            published = [(k, new if k == key else r) for k, r in published]
    # Provinces load what was published: big provinces have loaded most, a few nothing yet.
    provinces = {p.slug: p for p in Province.objects.all()}
    eager = ["gd", "bj", "sh", "js", "zj", "sc", "hb", "sd"]
    for slug in eager:
        agent = _actor(f"agent_{slug}")
        share = 0.9 if slug in ("gd", "bj", "sh") else 0.5
        for _key, rev in published:
            if ctx.rng.random() < share:
                services.receipt_load(actor=agent, revision=rev, now=now)
    for slug, fb_key, kind, text in FEEDBACK:
        article = Article.objects.get(pk=ids[fb_key]) if fb_key else None
        services.feedback_create(
            actor=_actor(f"agent_{slug}"),
            kind=kind,
            text=text,
            article=article,
            source_ref=f"{slug.upper()}-DEMO",
        )
    # The knowledge team's vocabulary: the seed synonym groups (customers' words next to the articles' terms).
    services.synonyms_seed(actor=actors["author"])
    handled = Feedback.objects.unscoped("demo data").filter(province=provinces["sh"]).first()
    if handled is not None:
        services.feedback_handle(
            actor=actors["checker"], feedback=handled, state="accepted", note="已转编写人修改"
        )
    ctx.shared["knowledge_articles"] = ids
