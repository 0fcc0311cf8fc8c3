"""The SLA app's entries in the web shell: navigation and home-page panels."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.models import JobHeartbeat
from kefu.core.registry import HomePanel, NavItem, register_home_panel, register_nav
from kefu.core.web import actor_of

from .sweep import JOB_NAME


def heartbeat_panel(request: HttpRequest) -> dict[str, Any] | None:
    """Administrators: when the sweep last succeeded, and an alert when it is late."""
    if not actor_of(request).is_admin:
        return None
    beat = JobHeartbeat.objects.filter(name=JOB_NAME).first()
    now = timezone.now()
    return {"beat": beat, "late": beat is None or beat.is_late(now), "now": now}


def supervisor_panel(request: HttpRequest) -> dict[str, Any] | None:
    from . import selectors

    actor = actor_of(request)
    now = timezone.now()
    where = selectors.visible(actor)
    # Counted by the database: the home page must not build a thousand clock rows to show two numbers.
    overdue = selectors.overdue_clocks(actor.scope, now=now, where=where).count()
    risky = selectors.at_risk_clocks(actor.scope, now=now, where=where).count()
    if not overdue and not risky:
        return None
    nearest = selectors.overdue(actor.scope, now=now, where=where, limit=5)
    if len(nearest) < 5:
        nearest += selectors.at_risk(actor.scope, now=now, where=where, limit=5 - len(nearest))
    return {"overdue": overdue, "at_risk": risky, "nearest": selectors.annotate_links(nearest)}


register_nav(NavItem(_("时限监控"), "sla:board", "sla.view", order=40))
register_home_panel(HomePanel("sla/_panel_heartbeat.html", "admin.site", heartbeat_panel, order=5))
register_home_panel(HomePanel("sla/_panel_clocks.html", "sla.view", supervisor_panel, order=30))
