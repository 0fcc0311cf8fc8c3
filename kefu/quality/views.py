"""Quality inspection pages: the list, one inspection (scorecard, answer, decision), the report, settings."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kefu.chat.models import Conversation, Message
from kefu.core.audit import timeline_for
from kefu.core.errors import DomainError, ValidationFailed
from kefu.core.web import actor_of, actor_required
from kefu.norms.models import Screening
from kefu.tickets.models import CustomerReply, Ticket

from . import selectors, services
from .models import SamplingRun, SamplingSetting, ScoreItem, Status


def _month(value: str | None) -> dt.date:
    if not value:
        return timezone.localdate().replace(day=1)
    try:
        return dt.date.fromisoformat(f"{value}-01")
    except ValueError:
        raise ValidationFailed(
            "月份格式应为 YYYY-MM。", "Month must be YYYY-MM.", fields=[{"field": "month"}]
        ) from None


@require_GET
@actor_required("quality.view")
def index(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    month = _month(request.GET.get("month"))
    status = request.GET.get("status", "")
    rows = list(selectors.inspections(actor, month=month, status=status)[:500])
    return render(
        request,
        "quality/index.html",
        {
            "rows": rows,
            "month": month,
            "status": status,
            "statuses": Status.choices,
            "can_inspect": actor.can("quality.inspect"),
            "can_configure": actor.can("quality.configure"),
            "setting": SamplingSetting.objects.first(),
            "month_end_run": SamplingRun.objects.filter(month=month).first(),
        },
    )


@require_POST
@actor_required("quality.inspect")
def sample(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    month = _month(request.POST.get("month"))
    n = services.sample_month(actor=actor, month=month)
    messages.success(request, _("已抽取 %(n)s 条。") % {"n": n})
    return redirect(f"/quality/?month={month:%Y-%m}")


def _contact(ins: Any) -> dict[str, Any]:
    """What the inspector reads: the order's replies and the phrase-check records of the contact."""
    out: dict[str, Any] = {"replies": [], "ticket": None, "conversation": None, "messages": []}
    if ins.contact_kind == "chat":
        conv = Conversation.objects.filter(pk=int(ins.contact_id)).first()
        out["conversation"] = conv
        if conv is not None:
            out["messages"] = list(
                Message.objects.filter(conversation=conv).select_related("author").order_by("seq")
            )
    if ins.contact_kind == "ticket":
        t = (
            Ticket.objects.unscoped("the inspection was fetched through its scope; this is its contact")
            .filter(pk=int(ins.contact_id))
            .first()
        )
        out["ticket"] = t
        if t is not None:
            out["replies"] = list(
                CustomerReply.objects.unscoped("replies of the inspected order")
                .filter(ticket=t)
                .select_related("author")
                .order_by("replied_at")
            )
    out["screenings"] = list(
        Screening.objects.filter(contact_kind=ins.contact_kind, contact_id=ins.contact_id)
    )
    return out


def _detail(
    request: HttpRequest, ins: Any, error: DomainError | None = None, status: int = 200
) -> HttpResponse:
    actor = actor_of(request)
    scores = {s.item_id: s for s in ins.item_scores.all()}
    items = [(i, scores.get(i.pk)) for i in services.items_for(ins)]
    return render(
        request,
        "quality/detail.html",
        {
            "ins": ins,
            "items": items,
            "error": error,
            "typed": request.POST if error else {},
            "is_agent": ins.agent_id == actor.user.pk,
            "can_inspect": actor.can("quality.inspect") and ins.agent_id != actor.user.pk,
            "timeline": timeline_for(ins),
            **_contact(ins),
        },
        status=status,
    )


@require_GET
@actor_required("quality.view")
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, services.inspection_for(actor_of(request), pk))


@require_POST
@actor_required("quality.view")
def act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    actor = actor_of(request)
    ins = services.inspection_for(actor, pk)
    p = request.POST
    version = int(p["version"]) if p.get("version", "").isdigit() else None
    try:
        if action == "score":
            points = {k[5:]: str(v) for k, v in p.items() if k.startswith("item_")}
            notes = {k[5:]: str(v) for k, v in p.items() if k.startswith("note_")}
            services.inspection_score(
                actor=actor,
                inspection=ins,
                points=points,
                notes=notes,
                comment=p.get("comment", ""),
                version=version,
            )
        elif action == "acknowledge":
            services.inspection_acknowledge(actor=actor, inspection=ins, version=version)
        elif action == "appeal":
            services.inspection_appeal(
                actor=actor, inspection=ins, reason=p.get("reason", ""), version=version
            )
        elif action == "decide":
            services.inspection_decide(
                actor=actor,
                inspection=ins,
                final_score=p.get("final_score", ""),
                comment=p.get("comment", ""),
                version=version,
            )
        else:
            raise ValidationFailed("未知操作。", "Unknown action.", fields=[{"field": "action"}])
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _detail(request, services.inspection_for(actor, pk), exc, exc.status)
    messages.success(request, _("操作成功。"))
    return redirect("quality:detail", pk=pk)


@require_GET
@actor_required("quality.inspect")
def report(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    month = _month(request.GET.get("month"))
    return render(request, "quality/report.html", {"month": month, **selectors.report(actor, month)})


@require_GET
@actor_required("quality.inspect")
def report_xlsx(request: HttpRequest) -> HttpResponse:
    from kefu.core import excel

    actor = actor_of(request)
    month = _month(request.GET.get("month"))
    data = selectors.report(actor, month)
    buf = io.BytesIO()
    wb = excel.workbook(buf)
    bold = wb.add_format({"bold": True})
    for title, key in ((_("按坐席"), "by_agent"), (_("按团队"), "by_team"), (_("按省份"), "by_province")):
        ws = wb.add_worksheet(str(title))
        ws.write_row(0, 0, [str(title), _("抽检数"), _("已定分"), _("平均最终得分")], bold)
        ws.set_column(0, 0, 24)
        for i, r in enumerate(data[key], start=1):
            ws.write_row(i, 0, [r.label, r.count, r.final, float(r.average) if r.average is not None else ""])
    ws = wb.add_worksheet(_("违规类别"))
    ws.write_row(0, 0, [_("类别"), _("处理"), _("次数")], bold)
    for i, (c, sev, n) in enumerate(data["violations"], start=1):
        ws.write_row(i, 0, [c, sev, n])
    ws = wb.add_worksheet(_("拦截最多的忌语"))
    ws.write_row(0, 0, [_("用语"), _("次数")], bold)
    for i, (phrase, n) in enumerate(data["top_blocked"], start=1):
        ws.write_row(i, 0, [phrase, n])
    wb.close()
    response = HttpResponse(
        buf.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="quality-{month:%Y-%m}.xlsx"'
    return response


@require_POST
@actor_required("quality.configure")
def settings_save(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    try:
        if "samples" in request.POST:
            services.samples_setting_set(actor=actor, samples=request.POST["samples"])
        for key, value in request.POST.items():
            value = str(value)
            if key.startswith("weight_"):
                item = ScoreItem.objects.filter(code=key[7:]).first()
                if item is not None and str(item.weight) != value.strip():
                    services.item_weight_set(actor=actor, item=item, weight=value)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("quality:settings")
    messages.success(request, _("已保存。"))
    return redirect("quality:settings")


@require_GET
@actor_required("quality.configure")
def settings_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "quality/settings.html",
        {"items": ScoreItem.objects.all(), "setting": SamplingSetting.objects.first()},
    )
