"""Reads. Articles are national (every signed-in role may read published ones);
receipts and feedback are province-owned and always read through a scope.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.scope import Scope
from kefu.knowledge.codes import KnowledgeCode
from kefu.org.access import Actor
from kefu.org.models import Province

from .models import (
    Article,
    CommonProblem,
    Feedback,
    LoadReceipt,
    Revision,
    SearchLog,
    SimilarQuestion,
    SynonymGroup,
)
from .workflow import UNDER_REVIEW, Status


def published_article(article_id: int | str) -> Revision:
    """The published revision of an article (``.article`` attached), or ``NotFound``.

    What the tickets app cites from a consultation; the same row the FAQ shows.
    """
    m = _CODE.match(str(article_id)) if article_id is not None else None
    if m is None:
        raise NotFound()
    pk = int(m.group(1))  # 67 or KB000067
    rev = Revision.objects.select_related("article").filter(article_id=pk, status=Status.PUBLISHED).first()
    if rev is None:
        raise NotFound()
    return rev


def is_editor(actor: Actor) -> bool:
    """People in the approval chain see drafts and revisions under review; others see published content only."""
    return any(actor.can(p) for p in ("kb.author", "kb.check", "kb.confirm", "kb.publish"))


def article_for(actor: Actor, article_id: int) -> Article:
    article = Article.objects.select_related("published_revision").filter(pk=article_id).first()
    if article is None or (article.published_revision_id is None and not is_editor(actor)):
        raise NotFound()
    return article


def revision_for(actor: Actor, revision_id: int) -> Revision:
    rev = Revision.objects.select_related("article", "author").filter(pk=revision_id).first()
    if rev is None:
        raise NotFound()
    if not is_editor(actor) and rev.status not in (Status.PUBLISHED, Status.RETIRED):
        raise NotFound()
    return rev


def latest_revisions(*, status: str = "", category_code: str = "", text: str = "") -> QuerySet[Revision]:
    """The newest revision of each article, for the editors' list."""
    newest = Revision.objects.filter(article=OuterRef("article")).order_by("-number").values("number")[:1]
    qs = Revision.objects.select_related("article", "author").filter(number=Subquery(newest))
    if status:
        qs = qs.filter(status=status)
    if category_code:
        qs = qs.filter(category_code__startswith=category_code)  # the code and every code under it
    if text:
        qs = qs.filter(Q(title__icontains=text) | Q(question__icontains=text))
    return qs.order_by("-article_id")


def published_revisions(*, category_code: str = "") -> QuerySet[Revision]:
    qs = Revision.objects.select_related("article").filter(status=Status.PUBLISHED)
    if category_code:
        qs = qs.filter(category_code__startswith=category_code)  # the code and every code under it
    return qs.order_by("category_code", "title")


def review_queue(actor: Actor) -> QuerySet[Revision]:
    """Revisions waiting for a step this actor may take (late submissions first)."""
    statuses = []
    if actor.can("kb.check"):
        statuses.append(Status.SUBMITTED)
    if actor.can("kb.confirm"):
        statuses.append(Status.CHECKED)
    if actor.can("kb.publish"):
        statuses += [Status.CONFIRMED, Status.SCHEDULED]
    return (
        Revision.objects.select_related("article", "author")
        .filter(status__in=statuses)
        .order_by("-late_submission", "-urgent", "submitted_at")
    )


def under_review(article: Article) -> Revision | None:
    return article.revisions.filter(status__in=UNDER_REVIEW).first()


def revision_diff(old: Revision | None, new: Revision) -> list[dict[str, Any]]:
    """Per field, an HTML-safe inline diff (escaped text in <del>/<ins>)."""
    from .services import CONTENT_FIELDS

    out = []
    for name in CONTENT_FIELDS:
        a = "" if old is None else str(getattr(old, name) or "")
        b = str(getattr(new, name) or "")
        if a == b:
            continue
        out.append(
            {
                "field": name,
                "label": getattr(Revision._meta.get_field(name), "verbose_name", name),
                "html": _inline_diff(a, b),
            }
        )
    return out


def _inline_diff(a: str, b: str) -> SafeString:
    parts: list[str] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(escape(a[i1:i2]))
        if op in ("delete", "replace"):
            parts.append("<del>" + escape(a[i1:i2]) + "</del>")
        if op in ("insert", "replace"):
            parts.append("<ins>" + escape(b[j1:j2]) + "</ins>")
    return mark_safe("".join(parts))  # noqa: S308 (every piece escaped)


# ---------------------------------------------------------------- receipts


@dataclass
class MatrixRow:
    revision: Revision
    cells: list[LoadReceipt | None]
    loaded: int


def receipt_matrix(scope: Scope, *, limit: int = 50) -> tuple[list[Province], list[MatrixRow]]:
    """Current published revisions × provinces. HQ sees all 31 columns; a province only its own."""
    provinces = (
        list(Province.objects.all())
        if scope.national
        else list(Province.objects.filter(pk__in=scope.province_ids))
    )
    revisions = list(
        Revision.objects.select_related("article")
        .filter(status=Status.PUBLISHED)
        .order_by("-published_at", "-id")[:limit]
    )
    receipts = LoadReceipt.objects.scoped(scope).filter(revision__in=revisions).select_related("loaded_by")
    by_key = {(r.revision_id, r.province_id): r for r in receipts}
    rows = []
    for rev in revisions:
        cells = [by_key.get((rev.pk, p.pk)) for p in provinces]
        rows.append(MatrixRow(rev, cells, sum(1 for c in cells if c is not None and c.loaded_at)))
    return provinces, rows


def receipts_of(scope: Scope, revision: Revision) -> QuerySet[LoadReceipt]:
    return (
        LoadReceipt.objects.scoped(scope)
        .filter(revision=revision)
        .select_related("province", "loaded_by")
        .order_by("province__report_order")
    )


def pending_loads(scope: Scope) -> QuerySet[LoadReceipt]:
    return (
        LoadReceipt.objects.scoped(scope)
        .filter(loaded_at=None, revision__status=Status.PUBLISHED)
        .select_related("revision__article", "province")
        .order_by("revision__published_at")
    )


# ---------------------------------------------------------------- feedback and problems


def feedback_queue(scope: Scope, *, state: str = Feedback.State.OPEN) -> QuerySet[Feedback]:
    qs = Feedback.objects.scoped(scope).select_related("article", "province", "created_by", "revision")
    if state:
        qs = qs.filter(state=state)
    return qs


def feedback_for(scope: Scope, feedback_id: int) -> Feedback:
    fb = Feedback.objects.scoped(scope).filter(pk=feedback_id).first()
    if fb is None:
        raise NotFound()
    return fb


def open_problems(scope: Scope) -> QuerySet[CommonProblem]:
    """Mined groups quote work orders of every province (texts and numbers): national readers only
    (第四条: the operating unit analyses the orders nationwide). Others get nothing, not an error."""
    if not scope.national:
        return CommonProblem.objects.none()
    return CommonProblem.objects.filter(state=CommonProblem.State.OPEN)


def problem_for(scope: Scope, problem_id: int) -> CommonProblem:
    p = CommonProblem.objects.filter(pk=problem_id).first() if scope.national else None
    if p is None:
        raise NotFound()
    return p


def status_counts() -> dict[str, int]:
    """How many articles the editors' list shows under each status (it lists each article's newest revision)."""
    rows = latest_revisions().order_by().values("status").annotate(n=Count("id"))
    return {r["status"]: r["n"] for r in rows}


# ---------------------------------------------------------------- vocabulary, citations, knowledge gaps

_CODE = re.compile(r"^\s*(?:kb)?0*(\d{1,12})\s*$", re.IGNORECASE)


def article_ref(value: str | int | None) -> int | None:
    """The article id an agent typed to cite: the visible number (KB000067), the bare number, or a title.

    Empty gives None. A title must match exactly one published article's title (or its start, when only
    one starts so). Anything else is a ``ValidationFailed`` that says what was typed, so the form keeps it.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    m = _CODE.match(text)
    if m:
        pk = int(m.group(1))
        if Revision.objects.filter(article_id=pk, status=Status.PUBLISHED).exists():
            return pk
        raise ValidationFailed(
            f"没有已发布的知识 KB{pk:06d}，请核对编号或按标题检索。",
            f"No published article KB{pk:06d}; check the number or search by title.",
            code=KnowledgeCode.ARTICLE_NOT_FOUND,
            fields=[{"field": "article_id", "value": text[:40]}],
        )
    revs = list(
        Revision.objects.filter(status=Status.PUBLISHED, title=text[:200]).values_list(
            "article_id", flat=True
        )[:2]
    )
    if not revs:
        revs = list(
            Revision.objects.filter(status=Status.PUBLISHED, title__startswith=text[:200]).values_list(
                "article_id", flat=True
            )[:2]
        )
    if len(revs) == 1:
        return int(revs[0])
    raise ValidationFailed(
        f"“{text[:40]}”不是唯一的知识编号或标题，请从建议中选择或输入编号(如 KB000067)。",
        f"'{text[:40]}' is not one article's number or title; pick a suggestion or type its "
        "number (e.g. KB000067).",
        code=KnowledgeCode.ARTICLE_AMBIGUOUS,
        fields=[{"field": "article_id", "value": text[:40]}],
    )


def synonym_groups() -> Any:
    return SynonymGroup.objects.select_related("updated_by").order_by("pk")


def similar_queue() -> Any:
    """Proposed similar questions waiting for the author, oldest first, with their article's title."""
    return (
        SimilarQuestion.objects.filter(state=SimilarQuestion.State.PROPOSED)
        .select_related("article__published_revision", "proposed_by")
        .order_by("created_at", "pk")
    )


def similar_of(article_id: int) -> Any:
    return (
        SimilarQuestion.objects.filter(article_id=article_id)
        .exclude(state=SimilarQuestion.State.REJECTED)
        .order_by("state", "pk")
    )


def knowledge_gaps(*, since: datetime, scope: str = "", limit: int = 200) -> list[dict[str, Any]]:
    """Searches that found nothing or whose results nobody opened, grouped by what was meant, most frequent first.

    Each row: normalized, an example query, scope, searches, with no result, without a click, last seen.
    """
    qs = SearchLog.objects.filter(created_at__gte=since).filter(Q(result_count=0) | Q(clicked_article=None))
    if scope:
        qs = qs.filter(scope=scope)
    rows = (
        qs.values("normalized", "scope")
        .annotate(
            n=Count("id"),
            empty=Count("id", filter=Q(result_count=0)),
            last=Max("created_at"),
            example=Max("query"),
        )
        .order_by("-n", "-last")[:limit]
    )
    return list(rows)


@dataclass
class FaqTopic:
    label: str
    views: int
    rows: list[Revision]


def faq_topics(*, category_code: str = "") -> list[FaqTopic]:
    """Published answers grouped by the customer's topic (the category's last level), most viewed first."""
    from .registry import category_choices

    labels = dict(category_choices())  # read once, not per row
    groups: dict[str, FaqTopic] = {}
    for rev in published_revisions(category_code=category_code)[:2000]:
        label = labels.get(rev.category_code, rev.category_code).split(" / ")[-1] or rev.category_code
        g = groups.setdefault(label, FaqTopic(label, 0, []))
        g.rows.append(rev)
        g.views += rev.article.view_count
    out = sorted(groups.values(), key=lambda g: (-g.views, g.label))
    for g in out:
        g.rows.sort(key=lambda r: (-r.article.view_count, r.title))
    return out
