"""Where apps plug into the web shell: navigation entries, home-page panels, recent-contact providers.

Apps register in their ``AppConfig.ready()``. Core never imports an app; the
shell reads these lists.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
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


# -- a customer's recent contacts (orders, calls, chats, ...) -----------------------------------------


@dataclass(frozen=True)
class RecentContact:
    """One contact with a customer, as a line in a history: the screen pop's "last five contacts"."""

    kind: str  # stable code of the provider: "order", "call", "chat", ...
    label: str | Promise  # the kind's name shown to people: 工单, 来电, 在线会话
    at: datetime
    title: str  # order number and subject, a call's outcome, a chat's visitor ...
    url: str = ""
    ref: Any = None  # the provider's own object id, e.g. to leave out the call being shown


# (actor, customer, limit) -> that provider's newest contacts the actor may see, newest first
RecentContactsProvider = Callable[[Any, Any, int], list[RecentContact]]
RECENT_CONTACTS: dict[str, RecentContactsProvider] = {}


def register_recent_contacts(kind: str, provider: RecentContactsProvider) -> None:
    """Apps add their kind of contact in ``AppConfig.ready()``; the apps reading it never import them."""
    RECENT_CONTACTS[kind] = provider


def recent_contacts(
    actor: Any, customer: Any, *, limit: int = 5, exclude: tuple[str, Any] | None = None
) -> list[RecentContact]:
    """The ``limit`` newest contacts of every registered kind, newest first.

    ``exclude`` = (kind, ref) leaves one item out (the call on screen). A provider that fails is
    logged and left out: a history line is never worth a broken screen pop.
    """
    items: list[RecentContact] = []
    for kind, provider in RECENT_CONTACTS.items():
        try:
            got = provider(actor, customer, limit + 1)
        except Exception:  # noqa: BLE001 - see the docstring
            logging.getLogger(__name__).exception("recent contacts provider %s failed", kind)
            continue
        items += [i for i in got if exclude is None or (i.kind, i.ref) != exclude]
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]
