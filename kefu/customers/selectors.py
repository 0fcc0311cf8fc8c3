"""Scoped reads of customers, contacts and phones.

Every function takes a ``Scope``; a customer outside it is reported exactly
like a missing one (``NotFound``), so the answer says nothing about what
exists in another province.
"""

from __future__ import annotations

import re

from django.db.models import Prefetch, Q, QuerySet

from kefu.core.errors import NotFound
from kefu.core.scope import Scope

from .models import Contact, ContactPhone, Customer
from .phones import try_normalize_phone

LOOKUP_LIMIT = 20
# An account number is letters, digits and dashes; anything that looks like one is tried as one.
_ACCOUNT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]{3,31}")


def customers_in_scope(scope: Scope) -> QuerySet[Customer]:
    return Customer.objects.scoped(scope).select_related("province", "account_manager")


def customer_in_scope(scope: Scope, pk: int) -> Customer:
    customer = customers_in_scope(scope).filter(pk=pk).first()
    if customer is None:
        raise NotFound()
    return customer


def customer_for_update(scope: Scope, pk: int) -> Customer:
    """The customer row locked for writing (inside a transaction), or NotFound."""
    customer = Customer.objects.scoped(scope).select_for_update().filter(pk=pk).first()
    if customer is None:
        raise NotFound()
    return customer


def contacts_in_scope(scope: Scope) -> QuerySet[Contact]:
    return Contact.objects.scoped(scope).select_related("customer__province")


def contact_in_scope(scope: Scope, pk: int) -> Contact:
    contact = contacts_in_scope(scope).filter(pk=pk).first()
    if contact is None:
        raise NotFound()
    return contact


def contacts_of(customer: Customer) -> QuerySet[Contact]:
    """A customer's contacts with their phones (the customer was fetched through a scope)."""
    return customer.contacts.prefetch_related(Prefetch("phones", queryset=ContactPhone.objects.unscoped(
        "children of a customer already fetched through a scope").order_by("id")))


def find_by_phone(scope: Scope, raw: str) -> list[Contact]:
    """Contacts in scope having this number (any written form), each with ``.customer`` loaded.

    An invalid number raises ``ValidationFailed``; use ``lookup`` for a search box.
    """
    from .phones import normalize_phone

    return _contacts_with_number(scope, normalize_phone(raw))


def _contacts_with_number(scope: Scope, number: str) -> list[Contact]:
    return list(
        contacts_in_scope(scope)
        .filter(phones__number=number, customer__is_active=True)
        .select_related("customer__account_manager")
        .distinct()
        .order_by("customer__name", "-is_primary", "name", "id")[:LOOKUP_LIMIT]
    )


def find_by_account(scope: Scope, account_number: str) -> Customer | None:
    return customers_in_scope(scope).filter(account_number__iexact=account_number.strip()).first()


def search_customers(scope: Scope, q: str) -> QuerySet[Customer]:
    """Customers whose name starts with (or contains) ``q``, or whose account number starts with it."""
    q = q.strip()
    qs = customers_in_scope(scope)
    if not q:
        return qs
    return qs.filter(Q(name__icontains=q) | Q(account_number__istartswith=q))


def lookup(scope: Scope, q: str) -> list[Customer]:
    """What an agent typed: a phone number, an account number or the start of a name.

    Exact matches come first (phone, then account number), then name prefixes.
    """
    q = q.strip()
    if not q:
        return []
    found: dict[int, Customer] = {}
    number = try_normalize_phone(q)
    if number is not None:
        for contact in _contacts_with_number(scope, number):
            found.setdefault(contact.customer_id, contact.customer)
    if _ACCOUNT_RE.fullmatch(q):
        customer = find_by_account(scope, q)
        if customer is not None:
            found.setdefault(customer.pk, customer)
    if len(found) < LOOKUP_LIMIT:
        for customer in customers_in_scope(scope).filter(name__istartswith=q).order_by("name", "id")[:LOOKUP_LIMIT]:
            found.setdefault(customer.pk, customer)
    return list(found.values())[:LOOKUP_LIMIT]
