"""Incident pages: list, declare, the incident (timeline, bulletin, receipts, links), the review report.

Every view resolves the incident through ``selectors.incident_by_number`` with
the actor's scope first (a province not affected gets the 404 of a missing
incident), then calls one service; the services check who may act.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kefu.core.errors import ValidationFailed
from kefu.core.web import actor_of, actor_required
from kefu.org.access import Actor
from kefu.org.models import Province
from kefu.tickets import selectors as ticket_selectors
from kefu.tickets.models import Category, ReplyMethod

from . import articles, bulk, contacts, mail, review, selectors, services, workflow
from .models import Impact, Status


def _when(value: str, field: str) -> dt.datetime | None:
    """A Beijing-time ``YYYY-MM-DDTHH:MM`` from a datetime-local input, as an aware datetime."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"时间格式应为 YYYY-MM-DD HH:MM：{field}",
            f"Bad date and time: {field}",
            fields=[{"field": field, "type": "invalid"}],
        ) from None
    if parsed.tzinfo is None:
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    return parsed


def _actor(request: HttpRequest) -> Actor:
    return actor_of(request)


def _incident(request: HttpRequest, number: str) -> Any:
    return selectors.incident_by_number(_actor(request).scope, number)


@require_GET
@actor_required("incident.view")
def incident_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    rows = list(selectors.visible(actor.scope).order_by("-declared_at")[:100])
    can_declare = True
    try:
        services.managing_seat(actor)
    except Exception:  # noqa: BLE001 - only asks whether the button is shown
        can_declare = False
    return render(request, "incidents/list.html", {"rows": rows, "can_declare": can_declare})


@actor_required("incident.declare")
def declare(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    services.managing_seat(actor)
    ctx: dict[str, Any] = {
        "impacts": Impact.choices,
        "provinces": Province.objects.order_by("report_order"),
        "categories": Category.objects.filter(level__gte=2, code__startswith="cf_").order_by(
            "level", "sort_order"
        ),
        "values": request.POST if request.method == "POST" else {},
    }
    if request.method == "POST":
        p = request.POST
        try:
            inc = services.incident_declare(
                actor=actor,
                title=p.get("title", ""),
                services=p.get("services", ""),
                symptoms=p.get("symptoms", ""),
                impact=p.get("impact", ""),
                started_at=_when(p.get("started_at", ""), "started_at"),
                detected_at=_when(p.get("detected_at", ""), "detected_at"),
                all_provinces=p.get("all_provinces") == "on",
                province_slugs=p.getlist("provinces"),
                category_codes=p.getlist("categories"),
                measures=p.get("measures", ""),
                workaround=p.get("workaround", ""),
                expected_recovery_at=_when(p.get("expected_recovery_at", ""), "expected_recovery_at"),
                auto_link=p.get("auto_link") == "on",
                auto_link_keywords=p.get("auto_link_keywords", ""),
            )
        except ValidationFailed as exc:
            ctx["error"] = exc
            return render(request, "incidents/declare.html", ctx, status=exc.status)
        messages.success(request, _("事件已宣告，集团客服部已收到站内提醒与邮件。"))
        return redirect("incidents:detail", number=inc.number)
    return render(request, "incidents/declare.html", ctx)


@require_GET
@actor_required("incident.view")
def detail(request: HttpRequest, number: str) -> HttpResponse:
    actor = _actor(request)
    inc = _incident(request, number)
    bulletin = selectors.current_bulletin(inc)
    team_ids = frozenset(s.team_id for s in actor.seats)
    links = list(selectors.links(inc, actor.scope)[:500])
    now = timezone.now()
    candidates: list[Any] = []
    chat_candidates: list[Any] = []
    call_candidates: list[Any] = []
    if inc.is_open and actor.can("incident.link"):
        candidates = selectors.candidates(inc, since=inc.started_at, until=now, scope=actor.scope, limit=30)
        if actor.can("chat.work"):
            chat_candidates = contacts.chat_candidates(inc, actor.scope, until=now)
        if actor.can("calls.view"):
            call_candidates = contacts.call_candidates(inc, actor.scope, until=now)
    ctx = {
        "inc": inc,
        "bulletin": bulletin,
        "receipts": list(selectors.receipts(bulletin, actor.scope)) if bulletin else [],
        "my_receipt": selectors.my_receipt(bulletin, team_ids) if bulletin else None,
        "links": links,
        "candidates": candidates,
        "contact_links": list(contacts.contact_links(inc, actor.scope)[:500]),
        "contact_counts": contacts.counts(inc, actor.scope),
        "chat_candidates": chat_candidates,
        "call_candidates": call_candidates,
        "timeline": inc.updates.select_related("author"),
        "next_statuses": [(s, Status(s).label) for s in workflow.next_statuses(inc.status)],
        "is_manager": _is(services.managing_seat, actor),
        "is_relay": _is(services.relay_seat, actor),
        "is_hq": any(s.team_kind == "hq_service" for s in actor.seats),
        "can_author": actor.can("kb.author"),
        "reply_methods": ReplyMethod.choices,
        "provinces": _province_names(inc),
        "mails": mail.for_incident(inc) if actor.scope.national else [],
        "bulk_failed": [link for link in links if link.bulk_outcome == "failed"],
    }
    return render(request, "incidents/detail.html", ctx)


def _is(check: Any, actor: Any) -> bool:
    try:
        check(actor)
    except Exception:  # noqa: BLE001 - only decides which forms are shown; services check again
        return False
    return True


def _province_names(inc: Any) -> list[str]:
    return ["全国"] if inc.all_provinces else [p.name for p in inc.provinces.order_by("report_order")]


def _back(number: str) -> HttpResponse:
    return redirect("incidents:detail", number=number)


@require_POST
@actor_required("incident.view")
def update(request: HttpRequest, number: str) -> HttpResponse:
    inc = _incident(request, number)
    p = request.POST
    services.incident_update(
        actor=_actor(request),
        incident=inc,
        body=p.get("body", ""),
        measures=p.get("measures") if "measures" in p else None,
        workaround=p.get("workaround") if "workaround" in p else None,
        expected_recovery_at=_when(p.get("expected_recovery_at", ""), "expected_recovery_at"),
    )
    messages.success(request, _("进展已记录。"))
    return _back(number)


@require_POST
@actor_required("incident.view")
def set_status(request: HttpRequest, number: str) -> HttpResponse:
    inc = _incident(request, number)
    p = request.POST
    services.incident_set_status(
        actor=_actor(request),
        incident=inc,
        status=p.get("status", ""),
        note=p.get("note", ""),
        resolution_text=p.get("resolution_text", ""),
    )
    messages.success(request, _("事件状态已更新。"))
    return _back(number)


@require_POST
@actor_required("incident.view")
def hq_ack(request: HttpRequest, number: str) -> HttpResponse:
    inc = _incident(request, number)
    services.incident_hq_acknowledge(actor=_actor(request), incident=inc)
    messages.success(request, _("已确认收到事件报告。"))
    return _back(number)


@require_POST
@actor_required("incident.view")
def bulletin_issue(request: HttpRequest, number: str) -> HttpResponse:
    inc = _incident(request, number)
    b = services.bulletin_issue(
        actor=_actor(request),
        incident=inc,
        customer_script=request.POST.get("customer_script", ""),
        agent_guidance=request.POST.get("agent_guidance", ""),
    )
    messages.success(request, _("通报第 %(v)s 版已下发，等待各团队确认。") % {"v": b.version})
    return _back(number)


@require_POST
@actor_required("incident.view")
def bulletin_ack(request: HttpRequest, number: str, version: int) -> HttpResponse:
    inc = _incident(request, number)
    b = selectors.bulletin_by_version(inc, version)
    services.receipt_acknowledge(actor=_actor(request), bulletin=b)
    messages.success(request, _("已确认收到通报。"))
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return redirect(nxt)
    return _back(number)


@require_POST
@actor_required("incident.view")
def link(request: HttpRequest, number: str) -> HttpResponse:
    actor = _actor(request)
    inc = _incident(request, number)
    ticket = ticket_selectors.ticket_by_number(actor, request.POST.get("ticket", "").strip())
    services.link_create(actor=actor, incident=inc, ticket=ticket)
    messages.success(request, _("工单 %(t)s 已关联到事件 %(i)s。") % {"t": ticket.number, "i": inc.number})
    if request.POST.get("from") == "ticket":
        return redirect("tickets:detail", number=ticket.number)
    return _back(number)


@require_POST
@actor_required("incident.view")
def unlink(request: HttpRequest, number: str, link_id: int) -> HttpResponse:
    actor = _actor(request)
    inc = _incident(request, number)
    services.link_remove(actor=actor, link=selectors.link_by_id(actor.scope, inc, link_id))
    messages.success(request, _("已取消关联。"))
    return _back(number)


def _contact_id(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(
            "请指定要关联的会话或通话。",
            "Give the conversation or call to link.",
            fields=[{"field": "id", "type": "invalid"}],
        ) from None


@require_POST
@actor_required("incident.view")
def contact_link(request: HttpRequest, number: str) -> HttpResponse:
    actor = _actor(request)
    inc = _incident(request, number)
    link = contacts.contact_link_create(
        actor=actor,
        incident=inc,
        kind=request.POST.get("kind", ""),
        contact_id=_contact_id(request.POST.get("id", "")),
    )
    messages.success(
        request, _("%(k)s已关联到事件 %(i)s。") % {"k": link.get_kind_display(), "i": inc.number}
    )
    return _back(number)


@require_POST
@actor_required("incident.view")
def contact_unlink(request: HttpRequest, number: str, link_id: int) -> HttpResponse:
    actor = _actor(request)
    inc = _incident(request, number)
    contacts.contact_link_remove(actor=actor, link=contacts.contact_link_by_id(actor.scope, inc, link_id))
    messages.success(request, _("已取消关联。"))
    return _back(number)


@require_POST
@actor_required("incident.view")
def bulk_resolve(request: HttpRequest, number: str) -> HttpResponse:
    inc = _incident(request, number)
    rep = bulk.bulk_request(
        actor=_actor(request),
        incident=inc,
        method=request.POST.get("method", ReplyMethod.SMS),
    )
    if isinstance(rep, int):
        messages.success(
            request,
            _("关联工单 %(n)s 张，已转入后台批量答复办结；完成后结果见本页关联工单与时间线。") % {"n": rep},
        )
        return _back(number)
    messages.success(
        request,
        _("批量答复办结：成功 %(d)s 张，此前已办结 %(a)s 张，失败 %(f)s 张。")
        % {"d": rep.done, "a": rep.already, "f": len(rep.failed)},
    )
    return _back(number)


@require_POST
@actor_required("incident.view")
def article(request: HttpRequest, number: str) -> HttpResponse:
    inc = _incident(request, number)
    p = request.POST
    rev = articles.urgent_article_create(
        actor=_actor(request),
        incident=inc,
        title=p.get("title", ""),
        question=p.get("question", ""),
        answer_agent=p.get("answer_agent", ""),
        answer_customer=p.get("answer_customer", ""),
    )
    messages.success(request, _("紧急知识已提交审核(知识编号 %(a)s)。") % {"a": rev.article_id})
    return _back(number)


@require_GET
@actor_required("incident.review")
def review_page(request: HttpRequest, number: str) -> HttpResponse:
    inc = _incident(request, number)
    rep = review.build(inc, _actor(request).scope)
    rows = [
        (p, [rep.per_province_hour[p].get(h, 0) for h in rep.hours], rep.per_province[p])
        for p in rep.provinces
    ]
    return render(
        request,
        "incidents/review.html",
        {"inc": inc, "rep": rep, "rows": rows, "provinces": _province_names(inc)},
    )


@require_GET
@actor_required("incident.review")
def review_xlsx(request: HttpRequest, number: str) -> HttpResponse:
    inc = _incident(request, number)
    data = review.to_xlsx(review.build(inc, _actor(request).scope))
    resp = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    resp["Content-Disposition"] = f'attachment; filename="incident-review-{inc.number}.xlsx"'
    return resp
