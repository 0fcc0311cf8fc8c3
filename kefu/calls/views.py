"""Web pages: call log, one call, the agent's screen pop (with its polling endpoint), rates, imports, the CTI webhook."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.calls.codes import CallCode
from kefu.core.audit import timeline_for
from kefu.core.errors import DomainError, Forbidden, ValidationFailed
from kefu.core.registry import recent_contacts
from kefu.core.web import actor_of, actor_required
from kefu.customers import selectors as customer_selectors
from kefu.tickets import selectors as ticket_selectors
from kefu.tickets.models import Kind

from . import export, selectors, services
from .models import CallSource, IngestRun
from .parsers import BadLine, parse_cti


def _day(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            "日期格式应为 YYYY-MM-DD。", "Dates are YYYY-MM-DD.", fields=[{"field": field}]
        ) from None


def _filters(request: HttpRequest) -> dict[str, Any]:
    g = request.GET
    return {
        "line": g.get("line", "")[:40],
        "day_from": _day(g.get("from", ""), "from"),
        "day_to": _day(g.get("to", ""), "to"),
        "outcome": g.get("outcome", "")[:12],
        "q": g.get("q", "").strip()[:40],
        "agent": g.get("agent", "").strip()[:80],
    }


@require_GET
@actor_required("calls.view")
def call_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    f = _filters(request)
    qs = selectors.call_list(actor.scope, **f)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "calls/list.html",
        {
            "page": page,
            "f": f,
            "lines": selectors.lines_in_scope(actor.scope),
            "outcomes": selectors.outcomes(),
            "query": request.GET.urlencode(),
        },
    )


@require_GET
@actor_required("calls.view")
def call_list_xlsx(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    qs = selectors.call_list(actor.scope, **_filters(request))[: export.MAX_ROWS]
    return export.xlsx_response("calls.xlsx", export.call_log_book(qs))


def _caller_card(actor: Any, call: Any) -> dict[str, Any]:
    """Matched customers and contacts, their open orders, the last five contacts with them."""
    contacts = []
    if call.caller:
        contacts = customer_selectors.find_by_phone(actor.scope, call.caller)
    customers = list({c.customer_id: c.customer for c in contacts}.values())
    if (
        call.customer_id
        and call.customer_id not in {c.pk for c in customers}
        and actor.scope.covers(call.province_id)
    ):
        found = customer_selectors.customers_in_scope(actor.scope).filter(pk=call.customer_id).first()
        if found is not None:
            customers.insert(0, found)
    cards = []
    for customer in customers[:3]:
        # Orders, calls, chats ... whatever the apps registered (kefu.core.registry): calls never imports chat.
        history = recent_contacts(actor, customer, limit=5, exclude=("call", call.pk))
        cards.append(
            {
                "customer": customer,
                "contacts": [c for c in contacts if c.customer_id == customer.pk],
                "open_orders": ticket_selectors.open_orders_of(actor, customer, limit=5)
                if actor.can("ticket.view")
                else [],
                "history": history,
            }
        )
    return {"cards": cards, "unknown": not cards}


@require_GET
@actor_required("calls.view")
def call_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    call = selectors.call_in_scope(actor.scope, pk)
    links = list(call.ticket_links.select_related("ticket").order_by("created_at"))
    return render(
        request,
        "calls/detail.html",
        {
            "call": call,
            "links": links,
            "timeline": timeline_for(call),
            "events": _event_rows(call),
            **_caller_card(actor, call),
            "kinds": Kind.choices,
            "can_create": actor.can("ticket.create"),
        },
    )


@require_GET
@actor_required("calls.view")
def pop_card(request: HttpRequest, pk: int) -> HttpResponse:
    """The screen-pop fragment of one call (what the agent page loads when told of a call)."""
    actor = actor_of(request)
    call = selectors.call_in_scope(actor.scope, pk)
    return render(
        request,
        "calls/_pop.html",
        {"call": call, **_caller_card(actor, call), "can_create": actor.can("ticket.create")},
    )


@require_POST
@actor_required("ticket.create")
def create_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    """One click: an order prefilled with the caller, linked to the call."""
    actor = actor_of(request)
    call = selectors.call_in_scope(actor.scope, pk)
    post = request.POST
    try:
        customer_id = int(post.get("customer", ""))
    except ValueError:
        raise ValidationFailed(
            "请先选择客户（未知号码请先新建客户）。",
            "Choose the customer first (create one for an unknown number).",
            fields=[{"field": "customer"}],
        ) from None
    customer = customer_selectors.customer_in_scope(actor.scope, customer_id)
    contact_id = post.get("contact", "")
    contact = (
        customer_selectors.contact_in_scope(actor.scope, int(contact_id)) if contact_id.isdigit() else None
    )
    category = ticket_selectors.category_by_code(post.get("category") or None)
    local = timezone.localtime(call.started_at) if call.started_at else timezone.localtime()
    subject = (
        post.get("subject") or ""
    ).strip() or f"来电 {call.caller or call.caller_raw} {local:%m-%d %H:%M}"
    ticket = services.call_create_ticket(
        actor=actor,
        call=call,
        kind=post.get("kind") or Kind.CONSULTATION,
        subject=subject,
        description=(post.get("description") or "").strip(),
        customer=customer,
        contact=contact,
        category=category,
    )
    return redirect("tickets:detail", number=ticket.number)


@require_GET
@actor_required("calls.view")
def agent_desk(request: HttpRequest) -> HttpResponse:
    """The agent's phone page: shows each call the PBX names this agent for (socket push, polling fallback)."""
    actor = actor_of(request)
    return render(request, "calls/desk.html", {"after": selectors.last_pop_id(actor.user.pk)})


@require_GET
@actor_required("calls.view")
def pops_poll(request: HttpRequest) -> HttpResponse:
    """The polling fallback: this user's screen pops after ``after`` (newest first)."""
    actor = actor_of(request)
    try:
        after = int(request.GET.get("after", "0"))
    except ValueError:
        after = 0
    pops = selectors.pops_for(actor.scope, actor.user.pk, after=after)
    return JsonResponse({"pops": [{"id": p.pk, "call": p.call_id, "event": p.event} for p in pops]})


@require_GET
@actor_required("calls.view")
def live_panel(request: HttpRequest) -> HttpResponse:
    """The home panel's own refresh (every minute)."""
    from .panels import live_context

    return render(request, "calls/_panel_rate.html", {"panel": live_context(actor_of(request))})


EVENT_LABELS = {
    "new": _("来电"),
    "queued": _("进入队列"),
    "answered": _("坐席接听"),
    "ended": _("挂断"),
    "abandoned": _("排队中放弃"),
    "overflowed": _("溢出"),
    "transferred": _("转接"),
    "cdr": _("话单"),
    "sheet": _("表格话单"),
}


def _event_rows(call: Any) -> list[dict[str, Any]]:
    rows = []
    for at, event, detail in call.events:
        try:
            moment = timezone.localtime(datetime.fromisoformat(at))
        except ValueError:
            continue
        rows.append({"at": moment, "label": EVENT_LABELS.get(event, event), "detail": detail})
    return rows


@require_GET
@actor_required("calls.view")
def rates_page(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    start, end = _period(request)
    line_code = request.GET.get("line", "")
    figures = selectors.rate_figures(
        actor.scope, start=start, end=end, with_slots=False, slots_for=line_code or None
    )
    if not line_code and figures:
        # No line named: the first one's half hours (the hotline for national seats).
        figures = selectors.rate_figures(
            actor.scope, start=start, end=end, with_slots=False, slots_for=figures[0].line.code
        )
    chosen = next((f for f in figures if f.line.code == line_code), figures[0] if figures else None)
    return render(
        request,
        "calls/rates.html",
        {
            "figures": figures,
            "chosen": chosen,
            "start": start,
            "end": end,
            "profile": selectors.slot_profile(chosen) if chosen else [],
            "days": sorted(chosen.days.items()) if chosen else [],
            "agents": selectors.agent_figures(actor.scope, start=start, end=end, line=chosen.line)
            if chosen
            else [],
            "query": request.GET.urlencode(),
        },
    )


@require_GET
@actor_required("calls.view")
def rates_xlsx(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    start, end = _period(request)
    figures = selectors.rate_figures(actor.scope, start=start, end=end)
    return export.xlsx_response(f"answer-rate-{start:%Y%m%d}-{end:%Y%m%d}.xlsx", export.rate_book(figures))


def _period(request: HttpRequest) -> tuple[date, date]:
    today = selectors.today(timezone.now())
    start = _day(request.GET.get("from", ""), "from") or today.replace(day=1)
    end = _day(request.GET.get("to", ""), "to") or today
    if end < start or (end - start).days > 366:
        raise ValidationFailed(
            "统计区间无效（至多一年）。", "Invalid period (one year at most).", fields=[{"field": "to"}]
        )
    return start, end


@require_http_methods(["GET", "POST"])
@actor_required("calls.import")
def import_files(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if not actor.scope.national:
        # The import history lists every source's files: a national (operator / HQ) tool.
        raise Forbidden(
            "话单导入仅限全国范围的班长或管理员。", "Imports are for national supervisors and admins."
        )
    run = None
    error = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        source = CallSource.objects.filter(code=request.POST.get("source", "")).first()
        try:
            if upload is None or source is None:
                raise ValidationFailed(
                    "请选择来源和文件。", "Choose a source and a file.", fields=[{"field": "file"}]
                )
            run = services.file_ingest(
                actor=actor,
                source=source,
                fmt=request.POST.get("format", ""),
                filename=upload.name or "",
                data=upload.read(),
            )
        except DomainError as exc:
            error = exc
    return render(
        request,
        "calls/import.html",
        {
            "run": run,
            "error": error,
            "sources": CallSource.objects.all(),
            "formats": IngestRun.Format.choices,
            "runs": IngestRun.objects.select_related("source", "actor")[:20],
        },
        status=error.status if error else 200,
    )


def _payload(request: HttpRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise ValidationFailed("请求体不是有效的 JSON。", "The body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise ValidationFailed("请求体应为 JSON 对象。", "The body must be a JSON object.")
        return data
    return {k: (v if len(v) > 1 else v[0]) for k, v in request.POST.lists()}


@csrf_exempt
@require_POST
def cti_webhook(request: HttpRequest, source: str) -> HttpResponse:
    """Zammad-compatible generic CTI events, signed per source; 401 stores nothing."""
    now = timezone.now()
    try:
        headers = {k.lower(): v for k, v in request.headers.items()}
        src = services.authenticate(source_code=source, headers=headers, body=request.body, now=now)
        services.check_rate(src, now)
        try:
            fact = parse_cti(_payload(request), received_at=now)
        except BadLine as exc:
            raise ValidationFailed(exc.reason, exc.reason_en, code=CallCode.BAD_EVENT) from None
        call = services.cti_event_ingest(source=src, fact=fact)
    except DomainError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    return JsonResponse({"call": call.pk, "outcome": call.outcome, "agent_unknown": call.agent_unknown})
