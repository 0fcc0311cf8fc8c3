"""Helpers for the tickets tests: customers in a province, orders created through the services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kefu.customers.tests.factories import ContactFactory, CustomerFactory
from kefu.org.access import Actor
from kefu.org.models import Province

from .. import services
from ..models import Category, Ticket


def customer_in(slug: str, **kw: Any) -> Any:
    customer = CustomerFactory(province=Province.objects.get(slug=slug), **kw)
    ContactFactory(customer=customer, is_primary=True)
    return customer


def category(code: str) -> Category:
    return Category.objects.get(code=code)


def make_ticket(
    actor: Actor,
    *,
    kind: str = "complaint",
    slug: str | None = None,
    customer: Any = None,
    now: datetime | None = None,
    **kw: Any,
) -> Ticket:
    if customer is None:
        province = actor.seats[0].province_code
        slug = slug or (Province.objects.get(code=province).slug if province else "bj")
        customer = customer_in(slug)
    defaults: dict[str, Any] = {"subject": "无法正常登录会议", "description": "客户反映登录失败"}
    if kind in ("complaint", "fault"):
        defaults["category"] = category("cf_usage_login")
    if kind == "acceptance":
        defaults["topic"] = "activation"
    defaults.update(kw)
    return services.ticket_create(actor=actor, kind=kind, customer=customer, now=now, **defaults).ticket


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.unscoped("test reload").get(pk=ticket.pk)
