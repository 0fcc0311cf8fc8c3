"""The org panel on everyone's landing page: my teams, my roles, what I may do."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kefu.core.registry import HomePanel, NavItem, register_home_panel, register_nav
from kefu.core.web import actor_of

from .models import Role
from .roles import MATRIX


def teams_and_duties(request: HttpRequest) -> dict[str, Any]:
    actor = actor_of(request)
    seats = [
        {
            "team": s.team_name,
            "role": Role(s.role).label,
            "role_code": s.role,
            "province": s.province_code,
            "national": s.province_id is None,
        }
        for s in actor.seats
    ]
    duties = [{"code": code, "label": label} for code, (label, _roles) in MATRIX.items() if actor.can(code)]
    return {"seats": seats, "duties": duties, "national": actor.scope.national}


register_nav(NavItem(_("首页"), "home", None, order=0))
register_nav(NavItem(_("API 令牌"), "tokens", "token.manage", order=900))
# Order 1000: below the panels of what must be done now, which other apps register.
register_home_panel(HomePanel("org/_panel_teams.html", None, teams_and_duties, order=1000))
