"""Reads. Articles are national (every signed-in role may read published ones);
receipts and feedback are province-owned and always read through a scope.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from kefu.core.errors import NotFound
from kefu.core.scope import Scope
from kefu.org.access import Actor
from kefu.org.models import Province

from .models import Article, CommonProblem, Feedback, LoadReceipt, Revision
from .workflow import UNDER_REVIEW, Status


def published_article(article_id: int | str) -> Revision:
    """The published revision of an article (``.article`` attached), or ``NotFound``.

    What the tickets app cites from a consultation; the same row the FAQ shows.
    """
    try:
        pk = int(article_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    rev = (Revision.objects.select_related("article")
           .filter(article_id=pk, status=Status.PUBLISHED).first())
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
    return (Revision.objects.select_related("article", "author").filter(status__in=statuses)
            .order_by("-late_submission", "-urgent", "submitted_at"))


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
        out.append({"field": name, "label": getattr(Revision._meta.get_field(name), "verbose_name", name), "html": _inline_diff(a, b)})
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
    provinces = list(Province.objects.all()) if scope.national else list(
        Province.objects.filter(pk__in=scope.province_ids))
    revisions = list(Revision.objects.select_related("article").filter(status=Status.PUBLISHED)
                     .order_by("-published_at", "-id")[:limit])
    receipts = (LoadReceipt.objects.scoped(scope).filter(revision__in=revisions)
                .select_related("loaded_by"))
    by_key = {(r.revision_id, r.province_id): r for r in receipts}
    rows = []
    for rev in revisions:
        cells = [by_key.get((rev.pk, p.pk)) for p in provinces]
        rows.append(MatrixRow(rev, cells, sum(1 for c in cells if c is not None and c.loaded_at)))
    return provinces, rows


def receipts_of(scope: Scope, revision: Revision) -> QuerySet[LoadReceipt]:
    return (LoadReceipt.objects.scoped(scope).filter(revision=revision)
            .select_related("province", "loaded_by").order_by("province__report_order"))


def pending_loads(scope: Scope) -> QuerySet[LoadReceipt]:
    return (LoadReceipt.objects.scoped(scope).filter(loaded_at=None, revision__status=Status.PUBLISHED)
            .select_related("revision__article", "province").order_by("revision__published_at"))


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
