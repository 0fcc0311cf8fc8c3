"""Work orders for report tests, written straight to the table.

The reports only read work orders, so these bypass the tickets services on
purpose: a test needs exact ``created_at``, ``category`` and flags.
"""

from __future__ import annotations

import itertools
from datetime import datetime

from kefu.customers.models import Customer
from kefu.org.models import Province, Team, User
from kefu.tickets.models import Category, Ticket

_numbers = itertools.count(1)


def province(slug: str) -> Province:
    return Province.objects.get(slug=slug)


def category(code: str) -> Category:
    return Category.objects.get(code=code)


def _customer(p: Province) -> Customer:
    customer = Customer.objects.unscoped("test fixture").filter(province=p).first()
    if customer is None:
        customer = Customer.objects.create(
            name=f"{p.name}测试客户", account_number=f"RPT-{p.slug}", province=p
        )
    return customer


def _agent() -> User:
    user, _ = User.objects.get_or_create(username="report_fixture_agent", defaults={"display_name": "坐席"})
    return user


def ticket(
    *,
    slug: str,
    at: datetime,
    kind: str = "complaint",
    cat: str | None = "cf_usage_login",
    channel: str = "province_desk",
    kb: bool = False,
    status: str = "open",
    updated_at: datetime | None = None,
) -> Ticket:
    p = province(slug)
    team = Team.objects.get(code=f"desk_{slug}")
    return Ticket.objects.create(
        number=f"T{next(_numbers):010d}",
        kind=kind,
        channel=channel,
        province=p,
        customer=_customer(p),
        category=category(cat) if cat else None,
        subject="测试工单",
        status=status,
        first_contact_team=team,
        first_contact_agent=_agent(),
        holder_team=team,
        resolved_from_kb=kb,
        created_at=at,
        updated_at=updated_at or at,
    )
