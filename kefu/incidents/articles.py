"""From the incident, an urgent knowledge article through knowledge's own urgent path.

The article is an ordinary draft of ``kefu.knowledge`` marked urgent with the
incident as the reason and released today, then submitted: the one-week lead
time gives way to the urgent mark (knowledge's rule), and the article still
goes through the operating unit's check, HQ business confirmation and HQ
publication like any other.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from kefu.core.errors import Conflict
from kefu.incidents.codes import IncidentCode
from kefu.knowledge import services as kb
from kefu.knowledge.models import Revision
from kefu.org.access import Actor

from . import services
from .models import Incident, Update


def urgent_article_create(
    *,
    actor: Actor,
    incident: Incident,
    title: str,
    question: str,
    answer_agent: str,
    answer_customer: str,
    category_code: str = "cf_incident",
    now: datetime | None = None,
) -> Revision:
    now = now or timezone.now()
    actor.require("kb.author")
    with transaction.atomic():
        inc = services._lock(incident)
        services._require_open(inc)
        if inc.urgent_article_id is not None:
            raise Conflict(
                "本事件已建立紧急知识，请在知识库中修改该条目。",
                "This incident already has its urgent article; edit it in the knowledge base.",
                code=IncidentCode.ARTICLE_EXISTS,
                details={"article": inc.urgent_article_id},
            )
        content = kb.Content(
            title=title,
            question=question,
            answer_agent=answer_agent,
            answer_customer=answer_customer,
            category_code=category_code,
            keywords="平台故障 突发事件",
            release=inc.number[:40],
            release_date=timezone.localtime(now).date(),
            urgent=True,
            urgent_reason=f"平台突发事件 {inc.number}：{inc.title}",
        )
        rev = kb.article_create(actor=actor, content=content)
        rev = kb.revision_transition(actor=actor, revision=rev, action="submit", now=now)
        inc.urgent_article_id = rev.article_id
        services._bump(inc, "urgent_article_id")
        services._timeline(inc, Update.Kind.ARTICLE, now, actor, body=f"{rev.article_id} {rev.title}")
        services._audit(actor, "incident.article_created", inc, article=rev.article_id)
    return rev
