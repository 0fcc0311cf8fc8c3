"""What the console offers the agent: knowledge answers for what the visitor asked, canned replies."""

from __future__ import annotations

from typing import Any

from kefu.knowledge.search import search
from kefu.norms import lexicon

from .models import Conversation, Message


def visitor_question(c: Conversation, *, last: int = 3) -> str:
    texts = list(
        c.messages.filter(sender=Message.Sender.VISITOR)
        .order_by("-seq")
        .values_list("text", flat=True)[:last]
    )
    return " ".join(reversed(texts))[:200]


def for_conversation(c: Conversation, *, limit: int = 5) -> list[dict[str, Any]]:
    """Published articles for the visitor's last questions, with the customer-worded answer to insert."""
    q = visitor_question(c)
    if not q.strip():
        return []
    hits = search(q, scope="faq", limit=limit)
    return [
        {"article": h.article_id, "code": h.code, "title": h.title, "answer": h.revision.answer_customer}
        for h in hits
    ]


def canned(q: Any, *, limit: int = 10) -> list[dict[str, str]]:
    """The standard phrases of the norms lexicon in force (online or all channels), found by keyword."""
    version = lexicon.version_in_force()
    if version is None:
        return []
    rows = version.templates.filter(channel__in=["online", "all"]).order_by("purpose", "id")
    if isinstance(q, str) and q.strip():
        rows = rows.filter(text__icontains=q.strip()[:40])
    return [{"purpose": t.purpose, "label": t.get_purpose_display(), "text": t.text} for t in rows[:limit]]
