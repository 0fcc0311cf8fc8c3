"""Norms API: the lexicon in force and its versions (everyone reads), a trial check, and HQ's versioned edit.

An edit publishes a complete new version, as the page and the Excel import do; ``base_version`` is the
number the editor started from, and a newer publication in between is a 409 (nothing written).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from kefu.core.api import OneOf, StrictSchema, Text
from kefu.core.errors import ValidationFailed
from kefu.core.web import actor_of

from . import lexicon, services
from .check import Channel, check_text
from .models import Applies, Category, LexiconVersion, Severity, TemplateChannel, TemplatePurpose

router = Router(tags=["norms"])
TEXT_MAX = 5000


OUTCOMES = ("ok", "warn", "block")  # CheckResult.outcome


class RuleIO(StrictSchema):
    category: Annotated[str, OneOf(Category)]
    severity: Annotated[str, OneOf(Severity)]
    pattern: str
    suggestion: str
    applies_to: Annotated[str, OneOf(Applies)] = "all"
    exceptions: str = ""


class TemplateIO(StrictSchema):
    channel: Annotated[str, OneOf(TemplateChannel)]
    purpose: Annotated[str, OneOf(TemplatePurpose)]
    text: str


class LexiconOut(Schema):
    number: int | None
    effective_from: datetime | None
    note: str
    rules: list[RuleIO]
    templates: list[TemplateIO]


class VersionOut(Schema):
    number: int
    effective_from: datetime
    created_at: datetime
    created_by: str | None
    note: str
    rules: int
    templates: int
    in_force: bool


class PublishIn(StrictSchema):
    base_version: int  # the version the edit started from (409 if another was published since)
    rules: list[RuleIO]
    templates: list[TemplateIO]
    effective_from: datetime | None = None
    note: str = ""


class CheckIn(StrictSchema):
    text: Annotated[str, Text(TEXT_MAX)]
    channel: Annotated[str, OneOf(Channel.ALL)] = Channel.TICKET


class NormsHitOut(Schema):
    category: Annotated[str, OneOf(Category)]
    severity: Annotated[str, OneOf(Severity)]
    pattern: str
    phrase: str
    suggestion: str
    start: int
    end: int


class CheckOut(Schema):
    outcome: Annotated[str, OneOf(OUTCOMES)]
    version: int | None
    hits: list[NormsHitOut]


def _actor(request: HttpRequest, perm: str) -> Any:
    actor = actor_of(request)
    actor.require(perm)
    return actor


def _lexicon_out(version: LexiconVersion | None) -> dict[str, Any]:
    rules, templates = services.specs_of(version)
    return {
        "number": version.number if version else None,
        "effective_from": version.effective_from if version else None,
        "note": version.note if version else "",
        "rules": [r.__dict__ for r in rules],
        "templates": [t.__dict__ for t in templates],
    }


@router.get("/lexicon", response=LexiconOut, summary="现行服务用语词库 / The lexicon in force")
def lexicon_in_force(request: HttpRequest) -> dict[str, Any]:
    _actor(request, "norms.view")
    return _lexicon_out(lexicon.version_in_force())


@router.get("/lexicon/versions", response=list[VersionOut], summary="词库版本 / Lexicon versions")
def lexicon_versions(request: HttpRequest) -> list[dict[str, Any]]:
    _actor(request, "norms.view")
    current = lexicon.version_in_force()
    rows = LexiconVersion.objects.select_related("created_by").order_by("-number")[:200]
    return [
        {
            "number": v.number,
            "effective_from": v.effective_from,
            "created_at": v.created_at,
            "created_by": v.created_by.username if v.created_by is not None else None,
            "note": v.note,
            "rules": v.rules.count(),
            "templates": v.templates.count(),
            "in_force": current is not None and v.pk == current.pk,
        }
        for v in rows
    ]


@router.post("/lexicon", response={201: LexiconOut}, summary="发布新版本词库 / Publish a new lexicon version")
def lexicon_publish(request: HttpRequest, payload: PublishIn) -> Status[dict[str, Any]]:
    actor = _actor(request, "norms.manage")
    version = services.lexicon_publish(
        actor=actor,
        rules=[services.RuleSpec(**r.model_dump()) for r in payload.rules],
        templates=[services.TemplateSpec(**t.model_dump()) for t in payload.templates],
        effective_from=payload.effective_from,
        note=payload.note,
        base_version=payload.base_version,
    )
    return Status(201, _lexicon_out(version))


@router.post("/check", response=CheckOut, summary="试检一段文字 / Try the phrase check on a text")
def check(request: HttpRequest, payload: CheckIn) -> dict[str, Any]:
    """Nothing is recorded: a sender's check is ``text_screen`` inside the action that sends."""
    _actor(request, "norms.view")
    if payload.channel not in Channel.ALL:
        raise ValidationFailed(
            "渠道无效。", "Unknown channel.", fields=[{"field": "channel", "allowed": list(Channel.ALL)}]
        )
    if not payload.text or len(payload.text) > TEXT_MAX:
        raise ValidationFailed(
            f"文字不能为空，且不超过 {TEXT_MAX} 字。",
            f"The text must be 1 to {TEXT_MAX} characters.",
            fields=[{"field": "text"}],
        )
    result = check_text(payload.text, channel=payload.channel)
    return {"outcome": result.outcome, "version": result.version, "hits": [h.as_dict() for h in result.hits]}
