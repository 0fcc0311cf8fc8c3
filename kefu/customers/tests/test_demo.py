"""Demo customers: every province, realistic, linked to the province's account manager, idempotent."""

from __future__ import annotations

import io
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone

from kefu.core.models import AuditEvent
from kefu.customers import demo, selectors
from kefu.customers.models import Contact, ContactPhone, Customer
from kefu.org import demo as org_demo
from kefu.org.data import PROVINCES

pytestmark = pytest.mark.django_db


@dataclass
class Ctx:
    """What ``load(ctx)`` uses of ``kefu.demo.loader.DemoContext`` (customers may not import kefu.demo)."""

    now: Any
    rng: random.Random
    password: str = "demo-pass-123"
    scale: int = 1
    out: Any = field(default_factory=io.StringIO)
    shared: dict[str, Any] = field(default_factory=dict)

    def progress(self, step: str, done: int, total: int) -> None:
        pass


def _ctx(seed: int = 7) -> Any:
    return Ctx(now=timezone.now(), rng=random.Random(seed))


def test_demo_customers_in_every_province():
    org_demo.load(_ctx())
    ctx = _ctx()
    demo.load(ctx)
    why = "test of demo data"
    per_province = Counter(Customer.objects.unscoped(why).values_list("province__slug", flat=True))
    assert set(per_province) == {slug for _c, slug, _n, _f in PROVINCES}
    assert all(3 <= n <= 6 for n in per_province.values()), per_province
    assert {slug: len(v) for slug, v in ctx.shared["customers"].items()} == dict(per_province)
    for customer in Customer.objects.unscoped(why).select_related("province", "account_manager"):
        assert customer.account_manager.username == f"am_{customer.province.slug}"
        contacts = list(customer.contacts.all())
        assert 1 <= len(contacts) <= 3
        assert sum(c.is_primary for c in contacts) == 1
        assert all(c.phones.exists() for c in contacts)
    # Customer kinds: a bureau, a hospital and a school in every province, then companies.
    industries = Counter(Customer.objects.unscoped(why).values_list("industry", flat=True))
    assert industries["government"] == industries["healthcare"] == industries["education"] == 31
    # Created through the services: audited.
    assert AuditEvent.objects.filter(verb="customer.created").count() == sum(per_province.values())
    # The fixed walkthrough caller is a Beijing customer's primary contact.
    from kefu.core.scope import Scope

    found = selectors.find_by_phone(Scope.everything(), "+86 138-0013-8000")
    assert [c.customer.province.slug for c in found] == ["bj"] and found[0].is_primary

    counts = (
        Customer.objects.unscoped(why).count(),
        Contact.objects.unscoped(why).count(),
        ContactPhone.objects.unscoped(why).count(),
    )
    demo.load(_ctx())  # a second run adds nothing
    assert counts == (
        Customer.objects.unscoped(why).count(),
        Contact.objects.unscoped(why).count(),
        ContactPhone.objects.unscoped(why).count(),
    )
