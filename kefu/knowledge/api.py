"""Knowledge API: search, articles and revisions, workflow actions, loading receipts, feedback."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from kefu.core.api import OneOf, StrictSchema, Text
from kefu.core.web import actor_of
from kefu.org.access import Actor

from . import search, selectors, services, workflow
from .models import STATUS_CHOICES, Feedback, LoadReceipt, Revision
from .services import Content

FeedbackStateStr = Annotated[str, OneOf(Feedback.State)]
RevisionStatusStr = Annotated[str, OneOf(STATUS_CHOICES)]

router = Router(tags=["knowledge"])


class HitOut(Schema):
    article_id: int
    revision_id: int
    code: str
    title: str
    title_html: str
    snippet_html: str
    category_code: str
    score: float


class RevisionOut(Schema):
    id: int
    article_id: int
    code: str
    number: int
    status: RevisionStatusStr
    title: str
    question: str
    answer_agent: str
    answer_customer: str
    category_code: str
    keywords: str
    release: str
    release_date: date | None
    urgent: bool
    urgent_reason: str
    late_submission: bool
    publish_at: datetime | None
    published_at: datetime | None


_LIMITS = services.MAX_LENGTHS


class ContentIn(StrictSchema):
    title: Annotated[str, Text(_LIMITS["title"])]
    question: Annotated[str, Text()]
    answer_agent: Annotated[str, Text()]
    answer_customer: Annotated[str, Text()]
    category_code: Annotated[str, Text(_LIMITS["category_code"])]
    keywords: Annotated[str, Text(_LIMITS["keywords"], blank=True)] = ""
    release: Annotated[str, Text(_LIMITS["release"], blank=True)] = ""
    release_date: date | None = None
    urgent: bool = False
    urgent_reason: str = ""

    # The services' two rules across fields, in the document: urgent needs a reason, a date needs a release.
    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"urgent": {"const": True}}, "required": ["urgent"]},
                    "then": {
                        "properties": {"urgent_reason": {"pattern": r"\S"}},
                        "required": ["urgent_reason"],
                    },
                },
                {
                    "if": {"properties": {"release_date": {"type": "string"}}, "required": ["release_date"]},
                    "then": {"properties": {"release": {"pattern": r"\S"}}, "required": ["release"]},
                },
            ]
        }
    )


class ActionIn(StrictSchema):
    action: Annotated[str, OneOf(workflow.USER_ACTIONS)]
    comment: str = ""
    publish_at: datetime | None = None


class ReceiptOut(Schema):
    revision_id: int
    article_id: int
    province_code: str
    province_name: str
    loaded: bool
    loaded_at: datetime | None
    loaded_by: str | None


class FeedbackIn(StrictSchema):
    kind: Annotated[str, OneOf(Feedback.Kind)]
    text: Annotated[str, Text()]
    article_id: int | None = None
    source_ref: Annotated[str, Text(80, blank=True)] = ""

    # Every kind but "missing" is about an article: the service asks "which article?" otherwise.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"kind": {"not": {"const": Feedback.Kind.MISSING.value}}}},
            "then": {"properties": {"article_id": {"type": "integer"}}, "required": ["article_id"]},
        }
    )


class FeedbackOut(Schema):
    id: int
    article_id: int | None
    revision_id: int | None
    province_code: str | None
    kind: Annotated[str, OneOf(Feedback.Kind)]
    text: str
    source_ref: str
    state: FeedbackStateStr
    created_at: datetime


class HandleIn(StrictSchema):
    state: Annotated[str, OneOf((Feedback.State.ACCEPTED, Feedback.State.REJECTED))]
    note: str = ""


def _rev_out(r: Revision) -> dict:
    return {
        "id": r.pk,
        "article_id": r.article_id,
        "code": r.article.code,
        "number": r.number,
        "status": r.status,
        **{
            f: getattr(r, f)
            for f in (*services.CONTENT_FIELDS, "late_submission", "publish_at", "published_at")
        },
    }


def _receipt_out(r: LoadReceipt) -> dict:
    return {
        "revision_id": r.revision_id,
        "article_id": r.revision.article_id,
        "province_code": r.province.code,
        "province_name": r.province.name,
        "loaded": r.loaded_at is not None,
        "loaded_at": r.loaded_at,
        "loaded_by": str(r.loaded_by) if r.loaded_by else None,
    }


def _feedback_out(f: Feedback) -> dict:
    return {
        "id": f.pk,
        "article_id": f.article_id,
        "revision_id": f.revision_id,
        "province_code": f.province.code if f.province else None,
        "kind": f.kind,
        "text": f.text,
        "source_ref": f.source_ref,
        "state": f.state,
        "created_at": f.created_at,
    }


def _actor(request: HttpRequest) -> Actor:
    return actor_of(request)


@router.get("/search", response=list[HitOut], summary="检索知识 / Search published articles")
def search_articles(
    request: HttpRequest,
    q: str,
    scope: Annotated[str, OneOf(search.SCOPES)] = "agent",
    limit: Annotated[int, Field(ge=1, le=search.MAX_LIMIT)] = 10,
    category: str | None = None,
) -> list[dict]:
    _actor(request).require("kb.read")
    hits = search.search(q, scope=scope, limit=limit, category_code=category or None)
    return [
        {
            "article_id": h.article_id,
            "revision_id": h.revision_id,
            "code": h.code,
            "title": h.title,
            "title_html": str(h.title_html),
            "snippet_html": str(h.snippet_html),
            "category_code": h.category_code,
            "score": h.score,
        }
        for h in hits
    ]


@router.get(
    "/articles/{article_id}",
    response=RevisionOut,
    summary="文章现行发布版本 / An article's published revision",
)
def article_get(request: HttpRequest, article_id: int) -> dict:
    _actor(request).require("kb.read")
    return _rev_out(selectors.published_article(article_id))


@router.post(
    "/articles", response={201: RevisionOut}, summary="新建知识(草稿) / Create an article as a draft"
)
def article_create(request: HttpRequest, payload: ContentIn) -> Status:
    rev = services.article_create(actor=_actor(request), content=Content(**payload.dict()))
    return Status(201, _rev_out(rev))


@router.post(
    "/articles/{article_id}/revisions",
    response={201: RevisionOut},
    summary="修改知识(新版本草稿) / Edit: a new draft revision",
)
def article_edit(request: HttpRequest, article_id: int, payload: ContentIn) -> Status:
    actor = _actor(request)
    actor.require("kb.author")
    article = selectors.article_for(actor, article_id)
    rev = services.revision_edit(actor=actor, article=article, content=Content(**payload.dict()))
    return Status(201, _rev_out(rev))


@router.get("/revisions/{revision_id}", response=RevisionOut, summary="版本 / A revision")
def revision_get(request: HttpRequest, revision_id: int) -> dict:
    actor = _actor(request)
    actor.require("kb.read")
    return _rev_out(selectors.revision_for(actor, revision_id))


@router.post(
    "/revisions/{revision_id}/actions",
    response=RevisionOut,
    summary="审核流程操作 / Workflow action: submit, check, confirm, publish, return",
)
def revision_action(request: HttpRequest, revision_id: int, payload: ActionIn) -> dict:
    actor = _actor(request)
    actor.require("kb.read")
    rev = selectors.revision_for(actor, revision_id)
    rev = services.revision_transition(
        actor=actor,
        revision=rev,
        action=payload.action,
        comment=payload.comment,
        publish_at=payload.publish_at,
    )
    return _rev_out(rev)


@router.get(
    "/receipts",
    response=list[ReceiptOut],
    summary="加载回执(本人范围内的省份) / Loading receipts in the caller's scope",
)
def receipts_list(
    request: HttpRequest, revision_id: int | None = None, loaded: bool | None = None
) -> list[dict]:
    actor = _actor(request)
    actor.require("kb.read")
    qs = (
        LoadReceipt.objects.scoped(actor.scope)
        .filter(revision__status="published")
        .select_related("revision", "province", "loaded_by")
        .order_by("revision_id", "province__report_order")
    )
    if revision_id is not None:
        qs = qs.filter(revision_id=revision_id)
    if loaded is not None:
        qs = qs.filter(loaded_at__isnull=not loaded)
    return [_receipt_out(r) for r in qs[:5000]]


@router.post(
    "/revisions/{revision_id}/receipts",
    response=ReceiptOut,
    summary="登记本省加载回执 / Record my province's loading receipt",
)
def receipt_load(request: HttpRequest, revision_id: int) -> dict:
    actor = _actor(request)
    actor.require("kb.load")
    rev = selectors.revision_for(actor, revision_id)
    receipt = services.receipt_load(actor=actor, revision=rev)
    return _receipt_out(
        LoadReceipt.objects.scoped(actor.scope)
        .select_related("revision", "province", "loaded_by")
        .get(pk=receipt.pk)
    )


@router.get(
    "/feedback", response=list[FeedbackOut], summary="知识反馈(本人范围) / Feedback in the caller's scope"
)
def feedback_list(request: HttpRequest, state: FeedbackStateStr | None = None) -> list[dict]:
    actor = _actor(request)
    actor.require("kb.read")
    return [_feedback_out(f) for f in selectors.feedback_queue(actor.scope, state=state or "")[:1000]]


@router.post(
    "/feedback", response={201: FeedbackOut}, summary="反馈知识问题 / Flag a wrong or missing answer"
)
def feedback_create(request: HttpRequest, payload: FeedbackIn) -> Status:
    actor = _actor(request)
    article = selectors.article_for(actor, payload.article_id) if payload.article_id is not None else None
    fb = services.feedback_create(
        actor=actor, kind=payload.kind, text=payload.text, article=article, source_ref=payload.source_ref
    )
    return Status(201, _feedback_out(fb))


@router.post(
    "/feedback/{feedback_id}/handle",
    response=FeedbackOut,
    summary="处理反馈 / Handle a feedback flag (accepted or rejected)",
)
def feedback_handle(request: HttpRequest, feedback_id: int, payload: HandleIn) -> dict:
    actor = _actor(request)
    fb = selectors.feedback_for(actor.scope, feedback_id)  # scope first: another province's flag is a 404
    fb = services.feedback_handle(actor=actor, feedback=fb, state=payload.state, note=payload.note)
    return _feedback_out(fb)
