"""The agent workbench: queues, filters, the phone-first create form, the order page and its actions.

Views are thin: they resolve the order through the scoped selector, call one
service, and render. The order page offers only what ``services.actions_for``
allows this user now; the services check again.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kefu.core.errors import DomainError, ValidationFailed
from kefu.core.web import actor_of, actor_required, is_htmx
from kefu.customers import selectors as customer_selectors
from kefu.customers.phones import try_normalize_phone
from kefu.knowledge import selectors as knowledge_selectors
from kefu.org.selectors import provinces_in_scope

from . import attachments, selectors, services, workflow
from .models import (
    AcceptanceOutcome,
    Channel,
    Kind,
    ReasonCode,
    ReferredTo,
    ReplyMethod,
    ReturnReason,
    Status,
    Topic,
)
from .web_common import download_response

PAGE = 50
QUEUE_LABELS = {
    "mine": gettext_lazy("我的工单"),
    "team": gettext_lazy("本团队"),
    "awaiting": gettext_lazy("待我接单"),
    "submitted": gettext_lazy("热线报送投诉"),
    "due_soon": gettext_lazy("即将超时"),
    "overdue": gettext_lazy("已超时"),
    "all": gettext_lazy("全部"),
    "off_rule": gettext_lazy("规则外转派"),
}


def _date(value: str, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"日期格式应为 YYYY-MM-DD：{field}", f"Bad date: {field}", fields=[{"field": field}]
        ) from None


def _filters(request: HttpRequest) -> selectors.Filters:
    g = request.GET
    return selectors.Filters(
        kind=g.get("kind", ""),
        status=g.get("status", ""),
        category=g.get("category", ""),
        channel=g.get("channel", ""),
        province=g.get("province", ""),
        date_from=_date(g.get("date_from", ""), "date_from"),
        date_to=_date(g.get("date_to", ""), "date_to"),
        q=g.get("q", "")[:60],
    )


@require_GET
@actor_required("ticket.view")
def workbench(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    name = request.GET.get("queue") or ("team" if actor.team_ids_with("ticket.work") else "all")
    if name == "off_rule":
        actor.require("ticket.supervise")
    try:
        offset = max(0, min(int(request.GET.get("offset", "0") or 0), 100_000))
    except ValueError:
        offset = 0
    error: ValidationFailed | None = None
    try:
        filters = _filters(request)
        rows, more = selectors.page(selectors.queue(actor, name, filters), offset=offset, limit=PAGE)
    except ValidationFailed as exc:
        # Not a dead end: the workbench again, with the message and the search as typed.
        error, filters, rows, more = exc, selectors.Filters(q=request.GET.get("q", "")[:60]), [], False
        name = name if name in QUEUE_LABELS else "all"
    params = request.GET.copy()
    params["offset"] = str(offset + PAGE)
    context: dict[str, Any] = {
        "rows": rows,
        "more": more,
        "next_query": params.urlencode(),
        "queue": name,
        "f": filters,
        "error": error,
        "now": timezone.now(),
        # One reverse() for the page instead of one {% url %} per row.
        "base_url": reverse("tickets:workbench"),
    }
    status = error.status if error is not None else 200
    if is_htmx(request):
        return render(request, "tickets/_table.html", context, status=status)
    queues = ["mine", "team", "awaiting", "submitted", "due_soon", "overdue", "all"]
    if actor.can("ticket.supervise"):
        queues.append("off_rule")
    counts = selectors.queue_counts(actor)
    context.update(
        {
            "queues": [(q, QUEUE_LABELS[q], counts.get(q)) for q in queues],
            "kinds": Kind.choices,
            "statuses": Status.choices,
            "channels": Channel.choices,
            "categories": selectors.leaf_categories(Kind.COMPLAINT)
            + selectors.leaf_categories(Kind.CONSULTATION),
            "provinces": list(provinces_in_scope(actor.scope)) if actor.scope.national else [],
        }
    )
    return render(request, "tickets/workbench.html", context, status=status)


@actor_required("ticket.create")
def create(request: HttpRequest) -> HttpResponse:
    """Phone first: typing the caller's number finds the customer and their open orders."""
    actor = actor_of(request)
    error: DomainError | None = None
    form = request.POST if request.method == "POST" else request.GET
    if request.method == "POST":
        try:
            ticket = _create_from_form(actor, request.POST)
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("已登记工单 %(number)s") % {"number": ticket.number})
            return redirect("tickets:detail", number=ticket.number)
    context = {
        "form": form,
        "error": error,
        "kinds": Kind.choices,
        "consult_topics": [
            (t.value, t.label) for t in Topic if t.value in ("business", "usage", "bill", "promotion")
        ],
        "acceptance_topics": [
            (t.value, t.label) for t in Topic if t.value in ("activation", "change", "termination")
        ],
        "cf_categories": selectors.leaf_categories(Kind.COMPLAINT),
        "consult_categories": selectors.leaf_categories(Kind.CONSULTATION),
        "teams": list(actor.seats_with("ticket.create")),
        "form_token": form.get("form_token") or uuid.uuid4().hex,
    }
    return render(request, "tickets/create.html", context, status=error.status if error else 200)


def _create_from_form(actor: Any, post: Any) -> Any:
    if not post.get("customer"):
        raise ValidationFailed(
            "请先输入来电号码并选择客户。",
            "Look up and choose the customer first.",
            fields=[{"field": "customer"}],
        )
    try:
        customer_id = int(post["customer"])
        contact_id = int(post["contact"]) if post.get("contact") else None
    except ValueError:
        raise ValidationFailed(
            "客户选择无效。", "Invalid customer.", fields=[{"field": "customer"}]
        ) from None
    customer = customer_selectors.customer_in_scope(actor.scope, customer_id)
    contact = customer_selectors.contact_in_scope(actor.scope, contact_id) if contact_id else None
    kind = post.get("kind", "")
    topic = (
        post.get("consult_topic", "")
        if kind == Kind.CONSULTATION
        else (post.get("acceptance_topic", "") if kind == Kind.ACCEPTANCE else "")
    )
    category = None
    if kind in (Kind.COMPLAINT, Kind.FAULT):
        category = selectors.category_by_code(post.get("cf_category"))
    elif kind == Kind.CONSULTATION and post.get("consult_category"):
        category = selectors.category_by_code(post.get("consult_category"))
    team = None
    if post.get("team"):
        from kefu.org.selectors import team_of_actor

        team = team_of_actor(actor, post["team"])
    return services.ticket_create(
        actor=actor,
        kind=kind,
        customer=customer,
        contact=contact,
        subject=post.get("subject", ""),
        description=post.get("description", ""),
        category=category,
        topic=topic,
        team=team,
        caller_phone=try_normalize_phone(post.get("phone", "")) or "",
        idempotency_key=post.get("form_token") or None,
        article_id=knowledge_selectors.article_ref(post.get("article_id")),
        fingerprint=services.request_fingerprint(
            {k: post.get(k) for k in sorted(post) if k != "csrfmiddlewaretoken"}
        ),
    ).ticket


@require_GET
@actor_required("ticket.view")
def detail(request: HttpRequest, number: str) -> HttpResponse:
    actor = actor_of(request)
    ticket = selectors.ticket_by_number(actor, number)
    return render(request, "tickets/detail.html", _detail_context(actor, ticket))


def _detail_context(
    actor: Any, ticket: Any, error: DomainError | None = None, *, failed_action: str = "", post: Any = None
) -> dict[str, Any]:
    """The order page: the action that fits now first and open, the others folded; a refused
    action comes back open with its message and what the user typed."""
    d = selectors.ticket_detail(actor, ticket)
    d["rows"] = _timeline_rows(d["events"])
    facts = services.facts_of(ticket)
    actions = workflow.ordered_actions(facts, services.actions_for(actor, ticket))
    if services.can_reassign(actor, ticket):
        actions.append("reassign")
    if failed_action in actions:  # the refused form first, as the user left it
        actions.remove(failed_action)
        actions.insert(0, failed_action)
    targets = selectors.dispatch_targets(ticket) if "dispatch" in actions or "reassign" in actions else []
    team_kind, reason = workflow.default_dispatch(ticket.kind, ticket.holder_team.kind)
    default_target = next(
        (tm.code for tm in targets if tm.kind == team_kind), targets[0].code if targets else ""
    )
    defaults: dict[str, str] = {
        "to_team": default_target,
        "reason_code": reason,
        "method": ReplyMethod.CALL_BACK,
        "reply_method": ReplyMethod.CALL_BACK,
        # The result the hotline sent back is the usual resolution: offered, editable.
        "resolution": next((h.result for h in reversed(d["hops"]) if h.result), "")
        if ticket.status == Status.RESULT_RETURNED
        else "",
    }
    accept_due = next(
        (i.left_display for i in d["clocks"] if i.clock.kind == "accept" and i.clock.status == "running"), ""
    )
    typed = {k: post.get(k, "") for k in post if k not in ("csrfmiddlewaretoken", "version")} if post else {}
    failed = {**defaults, **typed}
    return {
        "t": ticket,
        **d,
        "actions": actions,
        "more_actions": actions[1:],
        "error": error,
        "failed_action": failed_action,
        "vals_default": defaults,
        "accept_due": accept_due,
        "vals_primary": failed if actions and actions[0] == failed_action else defaults,
        "vals_failed": failed,
        "can_note": actor.can("ticket.work") and ticket.status != Status.CLOSED,
        "targets": targets,
        "reassign_targets": [ticket.holder_team, *targets] if "reassign" in actions else [],
        "reason_codes": [
            c for c in ReasonCode.choices if c[0] not in (ReasonCode.COMPLAINT_REPORT, ReasonCode.REASSIGNED)
        ],
        "return_reasons": ReturnReason.choices,
        "reply_methods": ReplyMethod.choices,
        "referrals": ReferredTo.choices,
        "outcomes": AcceptanceOutcome.choices,
        "max_mb": attachments.MAX_BYTES // (1024 * 1024),
        "allowed_types": ", ".join(sorted(attachments.ALLOWED)),
    }


_DETAIL_LABELS = {
    "to_team": gettext_lazy("至"),
    "reason_code": gettext_lazy("原因"),
    "reason": gettext_lazy("退回原因"),
    "method": gettext_lazy("答复方式"),
    "referred_to": gettext_lazy("引导渠道"),
    "outcome": gettext_lazy("受理结果"),
    "note": gettext_lazy("说明"),
    "changes": gettext_lazy("修改"),
    "name": gettext_lazy("文件"),
}
_DETAIL_CHOICES: dict[str, Any] = {
    "reason_code": ReasonCode,
    "reason": ReturnReason,
    "method": ReplyMethod,
    "referred_to": ReferredTo,
    "outcome": AcceptanceOutcome,
}


def _timeline_rows(events: list[Any]) -> list[Any]:
    """The foundation's timeline rows, with the details a reader needs in words rather than codes."""
    import dataclasses

    from kefu.core.audit import timeline_rows
    from kefu.org.models import Team

    teams = dict(Team.objects.values_list("code", "name"))
    rows = []
    for event, row in zip(events, timeline_rows(events), strict=True):
        details = []
        for key, label in _DETAIL_LABELS.items():
            value = (event.data or {}).get(key)
            if not value:
                continue
            if key == "to_team":
                value = teams.get(value, value)
            elif key == "changes":
                value = "、".join(sorted(value))
            elif key in _DETAIL_CHOICES and value in _DETAIL_CHOICES[key].values:
                value = _DETAIL_CHOICES[key](value).label
            details.append((str(label), str(value)))
        if (event.data or {}).get("off_rule"):
            details.append((str(gettext_lazy("规则外转派")), "✔"))
        rows.append(dataclasses.replace(row, details=details))
    return rows


def _int_or_none(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationFailed("编号无效。", "Invalid number.", fields=[{"field": "article_id"}]) from None


def _run_action(actor: Any, ticket: Any, action: str, post: Any) -> None:
    """The order page's forms: one per row of ``services.ACTIONS`` (the same table the API is built from)."""
    spec = services.ACTION_BY_NAME.get(action)
    if spec is None:
        raise ValidationFailed("未知操作。", "Unknown action.", fields=[{"field": "action"}])
    # The service compares the version under the row lock (no pre-check here: that left a window).
    spec.call(
        actor=actor, ticket=ticket, version=_version(post.get("version")), values=spec.form_values(post)
    )


def _version(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationFailed("版本号无效。", "Invalid version.", fields=[{"field": "version"}]) from None


@require_POST
@actor_required("ticket.view")
def act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    actor = actor_of(request)
    ticket = selectors.ticket_by_number(actor, number)
    try:
        _run_action(actor, ticket, action, request.POST)
    except DomainError as exc:
        if exc.status == 404:
            raise
        fresh = selectors.ticket_by_number(actor, number)
        context = _detail_context(actor, fresh, exc, failed_action=action, post=request.POST)
        return render(request, "tickets/detail.html", context, status=exc.status)
    messages.success(request, _("操作成功。"))
    return redirect("tickets:detail", number=number)


@require_POST
@actor_required("ticket.work")
def note(request: HttpRequest, number: str) -> HttpResponse:
    actor = actor_of(request)
    ticket = selectors.ticket_by_number(actor, number)
    try:
        services.note_add(actor=actor, ticket=ticket, body=request.POST.get("body", ""))
    except DomainError as exc:
        if exc.status == 404:
            raise
        context = _detail_context(actor, ticket, exc, failed_action="note", post=request.POST)
        return render(request, "tickets/detail.html", context, status=exc.status)
    return redirect(reverse("tickets:detail", args=[number]) + "#notes")


@require_POST
@actor_required("ticket.work")
def attach(request: HttpRequest, number: str) -> HttpResponse:
    actor = actor_of(request)
    ticket = selectors.ticket_by_number(actor, number)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ValidationFailed(
                "请选择要上传的文件。", "Choose a file to upload.", fields=[{"field": "file"}]
            )
        attachments.attachment_add(
            actor=actor,
            ticket=ticket,
            upload=attachments.Upload(name=upload.name or "", content=upload.read(attachments.MAX_BYTES + 1)),
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        return render(request, "tickets/detail.html", _detail_context(actor, ticket, exc), status=exc.status)
    return redirect(reverse("tickets:detail", args=[number]) + "#files")


@require_GET
@actor_required("ticket.view")
def download(request: HttpRequest, number: str, attachment_id: int) -> FileResponse:
    actor = actor_of(request)
    ticket = selectors.ticket_by_number(actor, number)
    return download_response(selectors.attachment_in_scope(actor, ticket, attachment_id))
