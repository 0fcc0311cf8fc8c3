"""The lexicon page (HQ customer service keeps it; everyone may read it and try a text)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kefu.core.errors import DomainError, ValidationFailed
from kefu.core.web import actor_of, actor_required

from . import excel, lexicon, services
from .check import Channel, check_text
from .models import Applies, Category, LexiconVersion, Severity
from .services import RuleSpec

TEXT_MAX = 5000


def _effective(value: str | None) -> dt.datetime | None:
    """A Beijing-time ``YYYY-MM-DDTHH:MM`` from the form; empty = now."""
    if not value:
        return None
    try:
        naive = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            "生效时间格式应为 YYYY-MM-DD HH:MM。",
            "Effective time must be YYYY-MM-DD HH:MM.",
            fields=[{"field": "effective_from"}],
        ) from None
    return timezone.make_aware(naive, timezone.get_default_timezone()) if timezone.is_naive(naive) else naive


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    actor = actor_of(request)
    version = lexicon.version_in_force()
    category = request.GET.get("category", "")
    rules = list(version.rules.order_by("severity", "category", "id")) if version else []
    if category in Category.values:
        rules = [r for r in rules if r.category == category]
    text = request.GET.get("text", "")[:TEXT_MAX]
    channel = request.GET.get("channel", Channel.TICKET)
    tried = check_text(text, channel=channel if channel in Channel.ALL else Channel.TICKET) if text else None
    return {
        "version": version,
        "rules": rules,
        "templates": list(version.templates.order_by("purpose", "channel", "id")) if version else [],
        "versions": LexiconVersion.objects.select_related("created_by")[:20],
        "upcoming": LexiconVersion.objects.filter(effective_from__gt=timezone.now()).order_by(
            "effective_from"
        ),
        "can_manage": actor.can("norms.manage"),
        "categories": Category.choices,
        "severities": Severity.choices,
        "applies": Applies.choices,
        "category": category,
        "text": text,
        "channel": channel,
        "tried": tried,
        "channels": [
            (Channel.TICKET, _("工单答复")),
            (Channel.CHAT, _("在线客服")),
            (Channel.MAIL, _("邮件")),
        ],
        "typed": {},
        "error": None,
        **extra,
    }


@require_GET
@actor_required("norms.view")
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "norms/index.html", _context(request))


def _refused(request: HttpRequest, exc: DomainError) -> HttpResponse:
    typed = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
    return render(request, "norms/index.html", _context(request, error=exc, typed=typed), status=exc.status)


@require_POST
@actor_required("norms.manage")
def rule_add(request: HttpRequest) -> HttpResponse:
    p = request.POST
    actor = actor_of(request)
    try:
        spec = RuleSpec(
            p.get("category", ""),
            p.get("severity", ""),
            p.get("pattern", ""),
            p.get("suggestion", ""),
            p.get("applies_to", "all"),
            p.get("exceptions", ""),
        )
        version = services.rule_add(
            actor=actor,
            spec=spec,
            effective_from=_effective(p.get("effective_from")),
        )
    except DomainError as exc:
        return _refused(request, exc)
    messages.success(request, _("已发布词库第 %(n)s 版。") % {"n": version.number})
    return redirect("norms:index")


@require_POST
@actor_required("norms.manage")
def rule_remove(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    try:
        version = services.rule_remove(
            actor=actor,
            pattern=request.POST.get("pattern", ""),
            effective_from=_effective(request.POST.get("effective_from")),
        )
    except DomainError as exc:
        return _refused(request, exc)
    messages.success(request, _("已发布词库第 %(n)s 版。") % {"n": version.number})
    return redirect("norms:index")


@require_POST
@actor_required("norms.manage")
def import_xlsx(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    actor = actor_of(request)
    try:
        if upload is None:
            raise ValidationFailed("请选择文件。", "Choose a file.", fields=[{"field": "file"}])
        if upload.size and upload.size > 5 * 1024 * 1024:
            raise ValidationFailed(
                "文件超过 5 MB。", "The file is larger than 5 MB.", fields=[{"field": "file"}]
            )
        version = services.lexicon_import(
            actor=actor,
            data=upload.read(),
            effective_from=_effective(request.POST.get("effective_from")),
            note=request.POST.get("note", "")[:200],
        )
    except DomainError as exc:
        return _refused(request, exc)
    messages.success(request, _("已发布词库第 %(n)s 版。") % {"n": version.number})
    return redirect("norms:index")


@require_GET
@actor_required("norms.view")
def export_xlsx(request: HttpRequest) -> HttpResponse:
    version = lexicon.version_in_force()
    response = HttpResponse(
        excel.to_xlsx(version),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    number = version.number if version else 0
    response["Content-Disposition"] = f'attachment; filename="norms-lexicon-v{number}.xlsx"'
    return response
