"""Where apps plug into the web shell: navigation entries and home-page panels.

Apps register in their ``AppConfig.ready()``. Core never imports an app; the
shell reads these lists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    permission: str | None  # shown when the actor holds it; None = any signed-in user
    order: int = 100


@dataclass(frozen=True)
class HomePanel:
    """A block on the landing page: what this role must do now.

    ``render(request)`` returns template context, or None to hide the panel.
    """

    template: str
    permission: str | None
    render: Callable[[HttpRequest], dict[str, Any] | None]
    order: int = 100


NAV: list[NavItem] = []
HOME_PANELS: list[HomePanel] = []


def register_nav(item: NavItem) -> None:
    if item not in NAV:
        NAV.append(item)
        NAV.sort(key=lambda i: i.order)


def register_home_panel(panel: HomePanel) -> None:
    if panel not in HOME_PANELS:
        HOME_PANELS.append(panel)
        HOME_PANELS.sort(key=lambda p: p.order)
