"""Home-page panel for report readers: last month's complaint/fault total in their scope, with links."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from kefu.core.errors import NotFound
from kefu.core.registry import HomePanel, register_home_panel
from kefu.core.web import actor_of

from . import layout, months, selectors


def last_month(request: HttpRequest) -> dict[str, Any] | None:
    actor = actor_of(request)
    try:
        aud = selectors.audience(selectors.reader_scope(actor))
    except NotFound:
        return None
    month = months.previous_month(timezone.now())
    table = selectors.monthly_table(aud, month)
    total = table.row(layout.TOTAL).values[0] if aud.national else sum(table.row(layout.TOTAL).values)
    return {
        "month_label": months.label(month),
        "month_key": months.key(month),
        "scope_label": aud.label,
        "total": total,
        "total_label": layout.TOTAL_LABEL,
    }


register_home_panel(HomePanel("reports/_home_panel.html", "reports.view", last_month, order=600))
