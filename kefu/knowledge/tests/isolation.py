"""Isolation table for knowledge (format: tests/isolation_spec.py).

Articles and revisions are national data (every signed-in role reads the
published ones), so their routes name no province-owned object. What is
province-owned: loading receipts and feedback. A Beijing desk supervisor never
sees Shanghai's receipts or feedback in a list, and handling a Shanghai flag
gives the 404 of a missing id. The public FAQ needs no sign-in.
"""

from __future__ import annotations

import itertools
from typing import Any

from kefu.knowledge import services
from kefu.knowledge.services import Content
from kefu.org.models import Role
from tests.isolation_spec import ListRoute, NoObject, ObjectRoute, Public, Target

_n = itertools.count(1)


def _published(ctx: Any) -> Any:
    n = next(_n)
    author = ctx.user(f"iso_kb_author{n}", "knowledge", Role.KB_AUTHOR)
    checker = ctx.user(f"iso_kb_checker{n}", "knowledge", Role.KB_AUTHOR)
    confirmer = ctx.user(f"iso_kb_confirmer{n}", "hq_business", Role.KB_CONFIRMER)
    publisher = ctx.user(f"iso_kb_publisher{n}", "hq_service", Role.KB_PUBLISHER)
    rev = services.article_create(
        actor=author,
        content=Content(
            title=f"隔离测试知识{n}",
            question="问题",
            answer_agent="坐席答案",
            answer_customer="客户答案",
            category_code="cf_usage_login",
        ),
    )
    for actor, action in (
        (author, "submit"),
        (checker, "check"),
        (confirmer, "confirm"),
        (publisher, "publish"),
    ):
        rev = services.revision_transition(actor=actor, revision=rev, action=action)
    return rev


def receipt_marker(ctx: Any) -> str:
    rev = _published(ctx)
    services.receipt_load(actor=ctx.owner, revision=rev)
    return str(ctx.owner.user)  # the loader's name shows in the Shanghai cell only


def _feedback(ctx: Any) -> Any:
    n = next(_n)
    return services.feedback_create(actor=ctx.owner, kind="missing", text=f"上海隔离反馈{n:04d}")


def feedback_marker(ctx: Any) -> str:
    return _feedback(ctx).text


def feedback_handle_web(ctx: Any) -> Target:
    return Target(path={"pk": _feedback(ctx).pk}, body={"state": "accepted", "note": "越权处理"})


def feedback_handle_api(ctx: Any) -> Target:
    return Target(path={"feedback_id": _feedback(ctx).pk}, body={"state": "accepted", "note": "越权处理"})


NATIONAL = "articles and revisions are national data; permissions are the app's tests'"

ROUTES = {
    "kb/": NoObject(NATIONAL),
    "kb/articles/new/": NoObject("a form"),
    "kb/articles/<int:pk>/": NoObject(NATIONAL + "; its receipts are scoped (tested in the app)"),
    "kb/articles/<int:pk>/edit/": NoObject(NATIONAL),
    "kb/articles/<int:pk>/feedback/": NoObject("creates a flag owned by the caller's own province"),
    "kb/revisions/<int:pk>/": NoObject(NATIONAL),
    "kb/revisions/<int:pk>/diff/": NoObject(NATIONAL),
    "kb/revisions/<int:pk>/act/": NoObject(NATIONAL),
    "kb/revisions/<int:pk>/load/": NoObject(
        "records the caller's own province's receipt of a national revision"
    ),
    "kb/review/": NoObject("national approval queue"),
    "kb/receipts/": ListRoute(make=receipt_marker),
    "kb/feedback/": [
        ListRoute(make=feedback_marker, query={"state": ""}),
        NoObject("POST creates a flag owned by the caller's own province"),
    ],
    "kb/feedback/<int:pk>/handle/": ObjectRoute(make=feedback_handle_web, methods=("POST",)),
    "kb/problems/": NoObject("national, mined from every province's work orders; operating unit only"),
    "kb/problems/<int:pk>/draft/": NoObject("national"),
    "kb/problems/<int:pk>/dismiss/": NoObject("national"),
    "kb/import/": NoObject("a form"),
    "kb/export.xlsx": NoObject(NATIONAL),
    "kb/suggest/": NoObject(NATIONAL),
    "kb/suggest/clicked/": NoObject("marks a search log row (national, not province-owned) as useful"),
    "kb/synonyms/": NoObject("the national vocabulary"),
    "kb/synonyms.xlsx": NoObject("the national vocabulary"),
    "kb/synonyms/import/": NoObject("the national vocabulary"),
    "kb/similar/": NoObject("national queue of proposed similar questions"),
    "kb/similar/<int:pk>/decide/": NoObject(NATIONAL),
    "kb/articles/<int:pk>/similar/": NoObject(NATIONAL),
    "kb/gaps/": NoObject("national search log, no province data"),
    "kb/faq/": Public("the public FAQ for customers"),
    "kb/faq/<int:pk>/": Public("the public FAQ for customers"),
    "api:GET /api/knowledge/search": NoObject(NATIONAL),
    "api:GET /api/knowledge/articles/{article_id}": NoObject(NATIONAL),
    "api:POST /api/knowledge/articles": NoObject(NATIONAL),
    "api:POST /api/knowledge/articles/{article_id}/revisions": NoObject(NATIONAL),
    "api:GET /api/knowledge/revisions/{revision_id}": NoObject(NATIONAL),
    "api:POST /api/knowledge/revisions/{revision_id}/actions": NoObject(NATIONAL),
    "api:GET /api/knowledge/receipts": ListRoute(make=receipt_marker),
    "api:POST /api/knowledge/revisions/{revision_id}/receipts": NoObject(
        "records the caller's own province's receipt of a national revision"
    ),
    "api:GET /api/knowledge/feedback": ListRoute(make=feedback_marker),
    "api:POST /api/knowledge/feedback": NoObject("creates a flag owned by the caller's own province"),
    "api:POST /api/knowledge/feedback/{feedback_id}/handle": ObjectRoute(make=feedback_handle_api),
}
