"""Web UI of the knowledge base: search and articles for agents, the approval desk for editors,
the loading matrix, feedback and common-problem queues, import/export, and the public FAQ.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.core import audit
from kefu.core.errors import DomainError, NotFound, ValidationFailed
from kefu.core.web import actor_of, actor_required, error_page

from . import exporter, importer, search, selectors, services, vocab
from .models import Feedback, Revision
from .registry import category_choices, category_label
from .services import Content

STATUS_CHOICES = Revision._meta.get_field("status").choices


def _content(request: HttpRequest) -> Content:
    post = request.POST
    raw_date = post.get("release_date", "").strip()
    release_date: date | None = None
    if raw_date:
        release_date = parse_date(raw_date)
        if release_date is None:
            raise ValidationFailed(
                "版本上线日期格式有误。", "Invalid release date.", fields=[{"field": "release_date"}]
            )
    return Content(
        title=post.get("title", ""),
        question=post.get("question", ""),
        answer_agent=post.get("answer_agent", ""),
        answer_customer=post.get("answer_customer", ""),
        category_code=post.get("category_code", ""),
        keywords=post.get("keywords", ""),
        release=post.get("release", ""),
        release_date=release_date,
        urgent=post.get("urgent") == "on",
        urgent_reason=post.get("urgent_reason", ""),
    )


def _selection(request: HttpRequest) -> dict[str, str]:
    return {
        "q": request.GET.get("q", "").strip()[:200],
        "category": request.GET.get("category", "")[:80],
        "status": request.GET.get("status", "")[:20],
    }


# ---------------------------------------------------------------- agents and editors


@require_GET
@actor_required("kb.read")
def index(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    sel = _selection(request)
    editor = selectors.is_editor(actor)
    categories = category_choices()
    hits: list[search.SearchHit] = []
    rows: Any = []
    log_id: Any = ""
    if sel["q"]:
        hits = search.search(sel["q"], scope="agent", limit=30, category_code=sel["category"] or None)
        log = services.search_logged(q=sel["q"], scope="agent", result_count=len(hits))
        log_id = log.pk if log else ""
    elif editor:
        rows = selectors.latest_revisions(status=sel["status"], category_code=sel["category"])[:300]
    else:
        rows = selectors.published_revisions(category_code=sel["category"])[:300]
    return render(
        request,
        "knowledge/index.html",
        {
            "sel": sel,
            "hits": hits,
            "rows": rows,
            "editor": editor,
            "categories": categories,
            "category_labels": dict(categories),
            "statuses": _statuses_with_counts() if editor else [],
            "query_string": request.GET.urlencode(),
            "log_id": log_id,
        },
    )


def _statuses_with_counts() -> list[tuple[str, str]]:
    """The editors' status filter, each option with how many revisions are in it (待运营单位审核 (3))."""
    counts = selectors.status_counts()
    return [(code, f"{label} ({counts.get(code, 0)})") for code, label in STATUS_CHOICES or ()]


def _form(
    request: HttpRequest, *, initial: Any, error: DomainError | None, article: Any = None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "knowledge/form.html",
        {
            "initial": initial,
            "error": error,
            "article": article,
            "categories": category_choices(),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@actor_required("kb.author")
def article_new(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if request.method == "POST":
        try:
            rev = services.article_create(actor=actor, content=_content(request))
        except ValidationFailed as exc:
            return _form(request, initial=request.POST, error=exc, status=exc.status)
        messages.success(request, _("已保存为草稿。"))
        return redirect("knowledge:revision", pk=rev.pk)
    return _form(request, initial={}, error=None)


@require_GET
@actor_required("kb.read")
def article_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    article = selectors.article_for(actor, pk)
    pub = article.published_revision
    editor = selectors.is_editor(actor)
    receipts = selectors.receipts_of(actor.scope, pub) if pub else []
    can_load = bool(pub and any(s.province_id for s in actor.seats_with("kb.load")))
    my_receipt = (
        next((r for r in receipts if r.province_id in actor.scope.province_ids), None) if can_load else None
    )
    services.search_clicked(log_id=request.GET.get("s"), article_id=article.pk)
    return render(
        request,
        "knowledge/article.html",
        {
            "similar": list(selectors.similar_of(article.pk)),
            "can_author": actor.can("kb.author"),
            "article": article,
            "pub": pub,
            "editor": editor,
            "revisions": article.revisions.select_related("author").order_by("-number") if editor else [],
            "receipts": receipts,
            "can_load": can_load,
            "my_receipt": my_receipt,
            "loaded_count": sum(1 for r in receipts if r.loaded_at),
            "feedback_kinds": Feedback.Kind.choices,
            "can_feedback": actor.can("kb.feedback"),
            "category_label": category_label(pub.category_code) if pub else "",
        },
    )


@require_http_methods(["GET", "POST"])
@actor_required("kb.author")
def article_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    article = selectors.article_for(actor, pk)
    latest = article.revisions.order_by("-number").first()
    if request.method == "POST":
        try:
            rev = services.revision_edit(actor=actor, article=article, content=_content(request))
        except ValidationFailed as exc:
            return _form(request, initial=request.POST, error=exc, article=article, status=exc.status)
        messages.success(request, _("已保存为新版本草稿。"))
        return redirect("knowledge:revision", pk=rev.pk)
    return _form(request, initial=latest, error=None, article=article)


@require_GET
@actor_required("kb.read")
def revision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    rev = selectors.revision_for(actor, pk)
    previous = rev.based_on or rev.article.revisions.filter(number__lt=rev.number).order_by("-number").first()
    actions = services.allowed_actions(
        actor, rev
    )  # only what this person may do (not the author's own check)
    events = [{"event": e, "label": audit.verb_label(e.verb)} for e in audit.timeline(rev).order_by("at")]
    return render(
        request,
        "knowledge/revision.html",
        {
            "rev": rev,
            "previous": previous,
            "diff": selectors.revision_diff(previous, rev) if previous else [],
            "actions": actions,
            "comments": rev.comments.select_related("author"),
            "events": events,
            "editor": selectors.is_editor(actor),
            "category_label": category_label(rev.category_code),
            "under_review": selectors.under_review(rev.article),
        },
    )


@require_GET
@actor_required("kb.read")
def revision_diff(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    rev = selectors.revision_for(actor, pk)
    against_id = request.GET.get("against", "")
    other = selectors.revision_for(actor, int(against_id)) if against_id.isdigit() else None
    if other is None or other.article_id != rev.article_id:
        return error_page(request, NotFound())
    old, new = (other, rev) if other.number < rev.number else (rev, other)
    return render(
        request, "knowledge/diff.html", {"old": old, "new": new, "diff": selectors.revision_diff(old, new)}
    )


@require_POST
@actor_required("kb.read")
def revision_act(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    rev = selectors.revision_for(actor, pk)
    publish_at: datetime | None = None
    raw = request.POST.get("publish_at", "").strip()
    if raw:
        parsed = parse_datetime(raw)
        if parsed is None:
            return error_page(request, ValidationFailed("计划发布时间格式有误。", "Invalid scheduled time."))
        publish_at = timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed
    rev = services.revision_transition(
        actor=actor,
        revision=rev,
        action=request.POST.get("action", ""),
        comment=request.POST.get("comment", ""),
        publish_at=publish_at,
    )
    messages.success(request, _("已完成：%(status)s") % {"status": rev.get_status_display()})
    return redirect("knowledge:revision", pk=rev.pk)


@require_GET
@actor_required("kb.read")
def review_queue(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    return render(request, "knowledge/review.html", {"rows": selectors.review_queue(actor)})


# ---------------------------------------------------------------- loading receipts


@require_POST
@actor_required("kb.load")
def revision_load(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    rev = selectors.revision_for(actor, pk)
    services.receipt_load(actor=actor, revision=rev)
    messages.success(request, _("已登记本省加载回执。"))
    return redirect("knowledge:article", pk=rev.article_id)


@require_GET
@actor_required("kb.read")
def receipts(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    provinces, rows = selectors.receipt_matrix(actor.scope)
    return render(
        request,
        "knowledge/receipts.html",
        {"provinces": provinces, "rows": rows, "national": actor.scope.national},
    )


# ---------------------------------------------------------------- feedback


@require_POST
@actor_required("kb.feedback")
def article_feedback(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    article = selectors.article_for(actor, pk)
    services.feedback_create(
        actor=actor,
        article=article,
        kind=request.POST.get("kind", ""),
        text=request.POST.get("text", ""),
        source_ref=request.POST.get("source_ref", "")[:80],
    )
    messages.success(request, _("反馈已提交运营单位。"))
    return redirect("knowledge:article", pk=article.pk)


@require_http_methods(["GET", "POST"])
@actor_required("kb.read")
def feedback_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if request.method == "POST":  # a flag with no article: "missing knowledge"
        services.feedback_create(
            actor=actor,
            kind=Feedback.Kind.MISSING,
            text=request.POST.get("text", ""),
            source_ref=request.POST.get("source_ref", "")[:80],
        )
        messages.success(request, _("反馈已提交运营单位。"))
        return redirect("knowledge:feedback")
    state = request.GET.get("state", Feedback.State.OPEN)
    if state not in Feedback.State.values and state != "":
        state = Feedback.State.OPEN
    return render(
        request,
        "knowledge/feedback.html",
        {
            "rows": selectors.feedback_queue(actor.scope, state=state)[:300],
            "state": state,
            "states": Feedback.State.choices,
            "can_handle": actor.can("kb.check"),
            "can_flag": actor.can("kb.feedback"),
        },
    )


@require_POST
@actor_required()
def feedback_handle(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    fb = selectors.feedback_for(actor.scope, pk)  # scope first: another province's flag is a 404
    services.feedback_handle(
        actor=actor, feedback=fb, state=request.POST.get("state", ""), note=request.POST.get("note", "")
    )
    messages.success(request, _("反馈已处理。"))
    return redirect("knowledge:feedback")


# ---------------------------------------------------------------- common problems


@require_GET
@actor_required("kb.author")
def problems(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    labels = dict(category_choices())  # once: the category source reads the taxonomy
    rows = [
        (p, labels.get(p.category_code, p.category_code)) for p in selectors.open_problems(actor.scope)[:200]
    ]
    return render(request, "knowledge/problems.html", {"rows": rows, "national": actor.scope.national})


@require_POST
@actor_required("kb.author")
def problem_draft(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    rev = services.problem_start_draft(actor=actor, problem=selectors.problem_for(actor.scope, pk))
    messages.success(request, _("已据此问题起草，请完善后提交审核。"))
    return redirect("knowledge:article_edit", pk=rev.article_id)


@require_POST
@actor_required("kb.check")
def problem_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    services.problem_dismiss(actor=actor, problem=selectors.problem_for(actor.scope, pk))
    return redirect("knowledge:problems")


# ---------------------------------------------------------------- import / export


@require_http_methods(["GET", "POST"])
@actor_required("kb.import")
def import_page(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    result = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            return error_page(
                request, ValidationFailed("请选择文件。", "Choose a file.", fields=[{"field": "file"}])
            )
        try:
            result = importer.import_upload(
                actor=actor,
                name=upload.name or "",
                data=upload.read(),
                mode=request.POST.get("mode", "draft"),
            )
        except ValidationFailed as exc:
            return render(request, "knowledge/import.html", {"error": exc}, status=exc.status)
    return render(request, "knowledge/import.html", {"result": result, "is_admin": actor.is_admin})


@require_GET
@actor_required("kb.read")
def export(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    sel = _selection(request)
    ids = [int(i) for i in request.GET.getlist("id") if i.isdigit()][:5000]
    revisions = exporter.selection(
        actor, q=sel["q"], category_code=sel["category"], status=sel["status"], ids=ids
    )
    response = HttpResponse(
        exporter.to_xlsx(revisions),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="kb-{timezone.localdate():%Y%m%d}.xlsx"'
    return response


# ---------------------------------------------------------------- suggestions (htmx)

SUGGEST_FIELDS = ("q", "subject", "description", "resolution", "title")


@require_GET
@actor_required("kb.read")
def suggest(request: HttpRequest) -> HttpResponse:
    """Fragment of up to 5 published articles for what an agent is typing (order form, resolve form, chat).

    Reads whichever of ``q``, ``subject``, ``description``, ``resolution`` the form sends (htmx includes
    them, debounced). Each suggestion can be cited (its number goes into the form's citation field) and its
    customer answer pasted into the reply. A typed article number (KB000067) is shown first.
    """
    text = " ".join(request.GET.get(k, "") for k in SUGGEST_FIELDS).strip()[:500]
    target = request.GET.get("target", "article_id")[:40]
    hits = search.search(text, scope="agent", limit=5) if len(text) >= 2 else []
    exact = None
    code = request.GET.get("q", "").strip()
    if code:
        try:
            pk = selectors.article_ref(code) if selectors._CODE.match(code) else None
        except ValidationFailed:
            pk = None
        if pk is not None:
            exact = selectors.published_article(pk)
            hits = [h for h in hits if h.article_id != pk]
    log = (
        services.search_logged(q=text, scope="suggest", result_count=len(hits) + (1 if exact else 0))
        if text
        else None
    )
    return render(
        request,
        "knowledge/_suggest.html",
        {"hits": hits, "exact": exact, "target": target, "log_id": log.pk if log else ""},
    )


@require_POST
@actor_required("kb.read")
def suggest_clicked(request: HttpRequest) -> HttpResponse:
    """A suggestion was cited or opened: that search found something useful (the knowledge-gap list)."""
    try:
        article_id = int(request.POST.get("article", ""))
    except ValueError:
        return HttpResponse(status=204)
    services.search_clicked(log_id=request.POST.get("log"), article_id=article_id)
    return HttpResponse(status=204)


# ---------------------------------------------------------------- vocabulary: synonyms, similar questions, gaps


@require_http_methods(["GET", "POST"])
@actor_required("kb.read")
def synonyms(request: HttpRequest) -> HttpResponse:
    """The synonym groups applied to every search; authors add, change and delete them here or in Excel."""
    actor = actor_of(request)
    error: DomainError | None = None
    typed: dict[str, str] = {}
    if request.method == "POST":
        typed = {
            "words": request.POST.get("words", ""),
            "note": request.POST.get("note", ""),
            "group": request.POST.get("group", ""),
        }
        try:
            group = _synonym_group(request.POST.get("group", ""))
            if request.POST.get("delete") and group is not None:
                services.synonym_group_delete(actor=actor, group=group)
                messages.success(request, _("已删除同义词组。"))
            else:
                services.synonym_group_save(
                    actor=actor, words=typed["words"], note=typed["note"], group=group
                )
                messages.success(request, _("已保存同义词组，检索立即生效。"))
            return redirect("knowledge:synonyms")
        except DomainError as exc:
            error = exc
    q = request.GET.get("q", "").strip()[:50].lower()
    groups = selectors.synonym_groups()
    if q:
        groups = groups.filter(words__icontains=q)
    return render(
        request,
        "knowledge/synonyms.html",
        {
            "groups": groups,
            "error": error,
            "typed": typed,
            "q": q,
            "can_edit": actor.can("kb.author"),
            "probe": search.expand(q) if q else [],
        },
        status=error.status if error else 200,
    )


def _synonym_group(value: str) -> Any:
    if not value:
        return None
    from .models import SynonymGroup

    group = SynonymGroup.objects.filter(pk=int(value)).first() if value.isdigit() else None
    if group is None:
        raise NotFound()
    return group


@require_GET
@actor_required("kb.read")
def synonyms_export(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(
        vocab.to_xlsx(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="kb-synonyms-{timezone.localdate():%Y%m%d}.xlsx"'
    return response


@require_POST
@actor_required("kb.author")
def synonyms_import(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ValidationFailed("请选择文件。", "Choose a file.", fields=[{"field": "file"}])
        result = services.synonyms_replace(actor=actor, rows=vocab.rows_from_xlsx(upload.read()))
    except DomainError as exc:
        return render(
            request,
            "knowledge/synonyms.html",
            {
                "groups": selectors.synonym_groups(),
                "error": exc,
                "typed": {},
                "q": "",
                "can_edit": True,
                "probe": [],
            },
            status=exc.status,
        )
    messages.success(request, _("已导入同义词表：%(created)s 组(替换原有 %(deleted)s 组)。") % result)
    return redirect("knowledge:synonyms")


@require_GET
@actor_required("kb.author")
def similar_queue(request: HttpRequest) -> HttpResponse:
    """The learning loop's queue: order subjects proposed as similar questions, for the author to decide."""
    return render(request, "knowledge/similar.html", {"items": selectors.similar_queue()[:300]})


@require_POST
@actor_required("kb.author")
def similar_decide(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    from .models import SimilarQuestion

    sq = SimilarQuestion.objects.filter(pk=pk).first()
    if sq is None:
        return error_page(request, NotFound())
    try:
        if request.POST.get("decision") == "remove":
            services.similar_remove(actor=actor, similar=sq)
        else:
            services.similar_decide(actor=actor, similar=sq, accept=request.POST.get("decision") == "accept")
    except DomainError as exc:
        return error_page(request, exc)
    back = request.POST.get("next", "")
    if back == "article":
        return redirect("knowledge:article", pk=sq.article_id)
    return redirect("knowledge:similar")


@require_POST
@actor_required("kb.author")
def similar_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    article = selectors.article_for(actor, pk)
    try:
        services.similar_add(actor=actor, article=article, text=request.POST.get("text", ""))
    except DomainError as exc:
        messages.error(request, str(exc.message) + "「" + request.POST.get("text", "")[:200] + "」")
    return redirect("knowledge:article", pk=pk)


@require_GET
@actor_required("kb.author")
def gaps(request: HttpRequest) -> HttpResponse:
    """Knowledge gaps: what people searched for and found nothing, or found nothing worth opening."""
    days = request.GET.get("days", "30")
    days_n = int(days) if days.isdigit() and 1 <= int(days) <= 366 else 30
    scope = request.GET.get("scope", "")
    scope = scope if scope in ("agent", "faq", "suggest") else ""
    rows = selectors.knowledge_gaps(since=timezone.now() - timedelta(days=days_n), scope=scope)
    return render(request, "knowledge/gaps.html", {"rows": rows, "days": days_n, "scope": scope})


# ---------------------------------------------------------------- public FAQ (no login)


@require_GET
def faq_index(request: HttpRequest) -> HttpResponse:
    """The public FAQ: search on top; without a query, every published answer grouped by topic, most viewed first."""
    q = request.GET.get("q", "").strip()[:100]
    category = request.GET.get("category", "")[:80]
    hits = search.search(q, scope="faq", limit=30, category_code=category or None) if q else []
    log = services.search_logged(q=q, scope="faq", result_count=len(hits)) if q else None
    groups = [] if q else selectors.faq_topics(category_code=category)
    return render(
        request,
        "knowledge/faq_index.html",
        {
            "q": q,
            "hits": hits,
            "groups": groups,
            "category": category,
            "categories": category_choices(),
            "log_id": log.pk if log else "",
        },
    )


@require_GET
def faq_article(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        rev = selectors.published_article(pk)
    except NotFound:
        return render(request, "knowledge/faq_missing.html", status=404)
    services.faq_viewed(article_id=rev.article_id)
    services.search_clicked(log_id=request.GET.get("s"), article_id=rev.article_id)
    # Customers get the topic (无法正常登录), not the internal complaint/fault taxonomy path.
    topic = category_label(rev.category_code).split(" / ")[-1]
    return render(request, "knowledge/faq_article.html", {"rev": rev, "category_label": topic})
