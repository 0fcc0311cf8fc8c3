"""Supervisors' pages: clocks at risk and overdue, on-time rates with the 98% line, the policies in force."""

from __future__ import annotations

import calendar as pycal
from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from kefu.core.web import actor_of, actor_required

from . import charts, selectors
from . import rates as rates_mod
from .params import parse_group, parse_month


@actor_required("sla.view")
def board(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    now = timezone.now()
    where = selectors.visible(actor)
    context = {
        "overdue": selectors.annotate_links(selectors.overdue(actor.scope, now=now, where=where)),
        "at_risk": selectors.annotate_links(selectors.at_risk(actor.scope, now=now, where=where)),
        "notices": selectors.notice_rows(selectors.notices_for(actor, limit=30)),
        "now": now,
    }
    return render(request, "sla/board.html", context)


@actor_required("sla.view")
def rates(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    now = timezone.now()
    month = parse_month(request.GET.get("month"), now)
    group_by = parse_group(request.GET.get("group"))
    where = selectors.visible(actor)
    rows = rates_mod.on_time_rates(actor.scope, month=month, now=now, group_by=group_by, where=where)
    series = rates_mod.daily_series(actor.scope, month=month, now=now, where=where)
    days = pycal.monthrange(month.year, month.month)[1]
    target = float(rates_mod.policy_target("complaint"))
    totals = rates_mod.on_time_rates(actor.scope, month=month, now=now, group_by="ticket_kind", where=where)
    context = {
        "rows": rows,
        "total": totals[0] if totals else None,
        "month": month,
        "group_by": group_by,
        "headline": rates_mod.headline(actor.scope, month=month, now=now, where=where),
        "bars": charts.bars(rows),
        "line": charts.line(series, days_in_month=days, target=target),
        "target": f"{target:g}",
        "months": _recent_months(now.date(), 6),
        "groups": rates_mod.GROUPS.keys(),
    }
    return render(request, "sla/rates.html", context)


@actor_required("sla.view")
def policies(request: HttpRequest) -> HttpResponse:
    return render(request, "sla/policies.html", selectors.policies_and_calendars())


def _recent_months(today: date, n: int) -> list[date]:
    out, d = [], today.replace(day=1)
    for _ in range(n):
        out.append(d)
        d = (d.replace(day=1) - timedelta(days=1)).replace(day=1)
    return out
