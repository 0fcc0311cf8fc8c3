"""Navigation entry for the console (the web shell reads kefu.core.registry)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core.registry import NavItem, register_nav


def register() -> None:
    register_nav(NavItem(_("在线客服"), "chat:console", "chat.work", order=35))
    register_nav(NavItem(_("在线客服统计"), "chat:stats", "chat.stats", order=36))
