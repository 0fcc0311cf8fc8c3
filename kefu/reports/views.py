"""Web pages of the reports: dashboard, monthly table, exports, service level, charts, mail outbox.

Every view reads through ``selectors.reader_scope(request.actor)``; a province in the URL or the
query can only narrow it, and one outside it is the same 404 as a missing one.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.chat import reporting as chat_reporting
from kefu.core.errors import NotFound
from kefu.core.scope import Scope
from kefu.core.web import actor_of, actor_required
from kefu.org.models import Province
from kefu.quality import reporting as quality_reporting
from kefu.tickets.models import Category, Channel, Kind

from . import charts, dashboard, export, layout, months, selectors, service_level, services
from .models import MailStatus, OutboundMail, Recipient, RollupCheckpoint


def _default_month() -> date:
    return months.previous_month(timezone.now())


def _month(request: HttpRequest) -> date:
    return months.parse_month(request.GET.get("month"), default=_default_month())


def _provinces_for(actor: Any) -> list[Province]:
    scope = selectors.reader_scope(actor)
    qs = Province.objects.order_by("report_order")
    return list(qs if scope.national else qs.filter(pk__in=scope.province_ids))


# -- monthly report --------------------------------------------------------------------


@actor_required("reports.view")
def monthly(request: HttpRequest, province: str | None = None) -> HttpResponse:
    actor = actor_of(request)
    aud = selectors.audience(selectors.reader_scope(actor), province)
    month = _month(request)
    table = selectors.monthly_table(aud, month)
    return render(
        request,
        "reports/monthly.html",
        {
            "table": table,
            "rows": list(zip(table.rows, layout.label_cells(table), strict=True)),
            "aud": aud,
            "month": month,
            "month_key": months.key(month),
            "month_label": months.label(month),
            "title": export.title_of(table, aud.label),
            "provinces": _provinces_for(actor),
            "province": province or "",
            "national_reader": selectors.reader_scope(actor).national,
        },
    )


def _export(request: HttpRequest, province: str | None, fmt: str) -> HttpResponse:
    actor = actor_of(request)
    aud = selectors.audience(selectors.reader_scope(actor), province)
    month = _month(request)
    table = selectors.monthly_table(aud, month)
    stem = f"kefu-monthly-{months.key(month)}-{aud.slug}"
    if fmt == "xlsx":
        body = export.to_xlsx(table, scope_label=aud.label, generated_at=timezone.now(), scope=aud.scope)
        response = HttpResponse(body, content_type=services.XLSX)
    else:
        body = export.to_csv(table)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    response["Cache-Control"] = "private, no-store"
    return response


@actor_required("reports.view")
def export_xlsx(request: HttpRequest, province: str | None = None) -> HttpResponse:
    return _export(request, province, "xlsx")


@actor_required("reports.view")
def export_csv(request: HttpRequest, province: str | None = None) -> HttpResponse:
    return _export(request, province, "csv")


# -- dashboard ---------------------------------------------------------------------------


def _filter(request: HttpRequest) -> dashboard.DashboardFilter:
    actor = actor_of(request)
    return dashboard.DashboardFilter.parse(
        request.GET, scope=selectors.reader_scope(actor), today_month=months.month_of(timezone.now())
    )


@actor_required("reports.view")
def dashboard_page(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    f = _filter(request)
    scope = selectors.reader_scope(actor)
    trend = dashboard.trend(scope, f)
    sl = service_level.service_level(
        scope if f.province is None else _narrow(scope, f.province), f.last, late_limit=0
    )
    query = f.query()
    chat = chat_reporting.summary(
        scope if f.province is None else _narrow(scope, f.province),
        f.first,
        months.add_months(f.last, 1) - timedelta(days=1),
    )
    return render(
        request,
        "reports/dashboard.html",
        {
            "chat": chat,
            "chat_satisfaction": chat_reporting.satisfaction(chat),
            "f": f,
            "chart_qs": urlencode(query),
            "trend": [(months.key(m), n) for m, n in trend],
            "trend_total": sum(n for _m, n in trend),
            "top": dashboard.top_categories(scope, f),
            "ranking": dashboard.province_ranking(scope, f),
            "sl": sl,
            "kinds": Kind.choices,
            "channels": Channel.choices,
            "categories": _filter_categories(),
            "provinces": _provinces_for(actor),
            "national_reader": scope.national,
            "month_from": months.key(f.first),
            "month_to": months.key(f.last),
            # Issue #10: inspections and phrase-check figures of the same months and scope.
            "quality": quality_reporting.summary(
                scope if f.province is None else _narrow(scope, f.province), f.first, f.last
            ),
        },
    )


def _filter_categories() -> list[Category]:
    """The 投诉/故障 categories in force today (a retired one is reached through the monthly table)."""
    today = timezone.localdate()
    qs = Category.objects.filter(
        Q(code=selectors.SECTION_ROOT_CODE)
        | Q(parent__code=selectors.SECTION_ROOT_CODE)
        | Q(parent__parent__code=selectors.SECTION_ROOT_CODE)
    )
    qs = qs.filter(valid_from__lte=today).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=today))

    def key(c: Category) -> tuple[int, int, int]:
        if c.level == 1:
            return (-1, 0, 0)
        if c.level == 2 or c.parent is None:
            return (c.sort_order, 0, 0)
        return (c.parent.sort_order, 1, c.sort_order)

    return sorted(qs.select_related("parent"), key=key)


def _narrow(scope: Scope, province: Province) -> Scope:
    return Scope.provinces([province.pk]) if scope.covers(province.pk) else Scope.nothing()


CHARTS = ("trend", "top", "ranking", "ontime")


@actor_required("reports.view")
def chart(request: HttpRequest, name: str) -> HttpResponse:
    if name not in CHARTS:
        raise NotFound()
    actor = actor_of(request)
    f = _filter(request)
    scope = selectors.reader_scope(actor)
    if name == "trend":
        data = dashboard.trend(scope, f)
        svg = charts.line(_("月度工单量趋势"), [months.key(m) for m, _n in data], [n for _m, n in data])
    elif name == "top":
        top = dashboard.top_categories(scope, f)
        svg = charts.bars(
            _("工单最多的分类"),
            [label.split(" / ", 1)[-1] for label, _n in top],
            [n for _l, n in top],
            horizontal=True,
        )
    elif name == "ranking":
        ranking = dashboard.province_ranking(scope, f)
        svg = charts.bars(
            _("各省工单量排名"), [p for p, _n in ranking], [n for _p, n in ranking], horizontal=True
        )
    else:
        sl = service_level.service_level(
            scope if f.province is None else _narrow(scope, f.province), f.last, late_limit=0
        )
        rates = [r for r in sl.by_province if r.rate is not None]
        svg = charts.bars(
            _("投诉工单处理及时率(%)"),
            [r.label for r in rates],
            [float(r.rate or 0) for r in rates],
            target=float(sl.target),
            target_label=_("目标 ≥ %(t)s%%") % {"t": sl.target},
        )
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    # The SVG carries pygal's own styles; this response, and only it, may use them.
    response["Content-Security-Policy"] = charts.SVG_CSP
    response["Cache-Control"] = "private, max-age=60"
    return response


# -- service level -------------------------------------------------------------------------


@actor_required("reports.view")
def service_level_page(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    month = _month(request)
    report = service_level.service_level(selectors.reader_scope(actor), month)
    return render(
        request,
        "reports/service_level.html",
        {
            "report": report,
            "month_key": months.key(month),
            "month_label": months.label(month),
        },
    )


# -- mail ----------------------------------------------------------------------------------------


@actor_required("reports.mail")
def mail_page(request: HttpRequest) -> HttpResponse:
    services.require_mail_admin(actor_of(request))
    if request.method == "POST":
        month = months.parse_month(request.POST.get("month"), default=_default_month())
        created, result = services.mail_month_now(actor=actor_of(request), month=month, now=timezone.now())
        messages.success(
            request,
            _("已生成 %(created)d 封，发送成功 %(sent)d 封，失败 %(failed)d 封，取消 %(cancelled)d 封。")
            % {"created": created, **result.as_dict()},
        )
        return redirect("reports:mail")
    mails = OutboundMail.objects.select_related("recipient__unit", "province").order_by(
        "-month", "status", "pk"
    )[:300]
    return render(
        request,
        "reports/mail.html",
        {
            "mails": mails,
            "recipients": Recipient.objects.select_related("unit").count(),
            "failed": OutboundMail.objects.filter(
                status__in=[MailStatus.FAILED, MailStatus.RETRYING]
            ).count(),
            "default_month": months.key(_default_month()),
            "checkpoint": RollupCheckpoint.objects.filter(name="monthly_counts").first(),
        },
    )


@require_POST
@actor_required("reports.mail")
def mail_retry(request: HttpRequest) -> HttpResponse:
    services.require_mail_admin(actor_of(request))
    n = services.mail_retry(actor=actor_of(request), mail_ids=None, now=timezone.now())
    result = services.mail_send_due(now=timezone.now())
    messages.success(
        request, _("已重新排队 %(n)d 封，发送成功 %(sent)d 封。") % {"n": n, "sent": result.sent}
    )
    return redirect("reports:mail")
