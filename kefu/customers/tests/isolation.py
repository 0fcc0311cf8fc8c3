"""Isolation table for customers (format: tests/isolation_spec.py).

A Beijing desk supervisor (who may view and edit customers of Beijing) asks
for a Shanghai customer, contact or phone by every route: each answer is the
404 of a missing id, and nothing is written. Lists and lookups never show a
Shanghai customer. Creation names a province, not an object: creating in a
province outside one's scope is a 403 (provinces are public), tested in
``test_isolation_customers.py``.
"""

from __future__ import annotations

import itertools
from typing import Any

from kefu.customers.tests.factories import ContactFactory, CustomerFactory
from tests.isolation_spec import ListRoute, NoObject, ObjectRoute, Target

_n = itertools.count(1)


def _customer(ctx: Any) -> Any:
    n = next(_n)
    customer = CustomerFactory(
        province=ctx.province, name=f"上海隔离测试客户{n:03d}", account_number=f"ISO-SH-{n:04d}"
    )
    contact = ContactFactory(customer=customer, name=f"上海联系人{n:03d}", phones=[f"1391234{n:04d}"])
    return customer, contact


def customer_path(ctx: Any) -> dict[str, Any]:
    customer, _ = _customer(ctx)
    return {"pk": customer.pk}


def customer_api(ctx: Any) -> dict[str, Any]:
    customer, _ = _customer(ctx)
    return {"customer_id": customer.pk}


def customer_patch(ctx: Any) -> Target:
    customer, _ = _customer(ctx)
    return Target(path={"customer_id": customer.pk}, body={"version": 1, "name": "越权修改"})


def customer_edit_post(ctx: Any) -> Target:
    customer, _ = _customer(ctx)
    return Target(
        path={"pk": customer.pk},
        body={
            "version": "1",
            "name": "越权修改",
            "account_number": customer.account_number,
            "province": str(ctx.province.pk),
        },
    )


def contact_add_web(ctx: Any) -> Target:
    customer, _ = _customer(ctx)
    return Target(path={"pk": customer.pk}, body={"name": "越权联系人", "phones": "13900000000"})


def contact_add_api(ctx: Any) -> Target:
    customer, _ = _customer(ctx)
    return Target(path={"customer_id": customer.pk}, body={"name": "越权联系人", "phones": ["13900000000"]})


def contact_patch(ctx: Any) -> Target:
    _, contact = _customer(ctx)
    return Target(path={"contact_id": contact.pk}, body={"version": 1, "name": "越权修改"})


def phone_add_web(ctx: Any) -> Target:
    _, contact = _customer(ctx)
    return Target(path={"contact_pk": contact.pk}, body={"number": "13900000000"})


def phone_add_api(ctx: Any) -> Target:
    _, contact = _customer(ctx)
    return Target(path={"contact_id": contact.pk}, body={"number": "13900000000"})


def phone_remove(ctx: Any) -> dict[str, Any]:
    _, contact = _customer(ctx)
    return {"phone_id": contact.phones.get().pk}


def customer_marker(ctx: Any) -> str:
    customer, _ = _customer(ctx)
    return customer.name


def phone_marker_factory(number: str) -> Any:
    def make(ctx: Any) -> str:
        n = next(_n)
        customer = CustomerFactory(
            province=ctx.province, name=f"上海来电客户{n:03d}", account_number=f"ISO-PH-{n:04d}"
        )
        ContactFactory(customer=customer, phones=[number])
        return customer.name

    return make


ROUTES = {
    "customers/": ListRoute(make=customer_marker),
    "customers/new/": NoObject(
        "a form; creating in a province outside one's scope is 403, tested in the app"
    ),
    "customers/lookup/": [
        ListRoute(make=phone_marker_factory("13987650001"), query={"phone": "+86 139-8765-0001"}),
        ListRoute(make=customer_marker, query={"q": "上海隔离测试客户"}),
    ],
    "customers/<int:pk>/": ObjectRoute(make=customer_path),
    "customers/<int:pk>/edit/": [
        ObjectRoute(make=customer_path, methods=("GET",)),
        ObjectRoute(make=customer_edit_post, methods=("POST",)),
    ],
    "customers/<int:pk>/contacts/": ObjectRoute(make=contact_add_web, methods=("POST",)),
    "customers/contacts/<int:contact_pk>/phones/": ObjectRoute(make=phone_add_web, methods=("POST",)),
    "api:GET /api/customers": [
        ListRoute(make=customer_marker),
        ListRoute(make=phone_marker_factory("13987650002"), query={"q": "13987650002"}),
    ],
    "api:POST /api/customers": NoObject(
        "creation names a province; another province's is 403, tested in the app"
    ),
    "api:GET /api/customers/lookup": [
        ListRoute(make=phone_marker_factory("13987650003"), query={"phone": "１３９８７６５０００３"}),
        ListRoute(make=customer_marker, query={"q": "上海隔离测试客户"}),
    ],
    "api:GET /api/customers/{customer_id}": ObjectRoute(make=customer_api),
    "api:PATCH /api/customers/{customer_id}": ObjectRoute(make=customer_patch),
    "api:GET /api/customers/{customer_id}/contacts": ObjectRoute(make=customer_api),
    "api:POST /api/customers/{customer_id}/contacts": ObjectRoute(make=contact_add_api),
    "api:PATCH /api/customers/contacts/{contact_id}": ObjectRoute(make=contact_patch),
    "api:POST /api/customers/contacts/{contact_id}/phones": ObjectRoute(make=phone_add_api),
    "api:DELETE /api/customers/phones/{phone_id}": ObjectRoute(make=phone_remove),
}
