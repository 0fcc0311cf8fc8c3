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
from kefu.org.models import Role, User

from .models import Contact, ContactPhone, Customer
from .phones import try_normalize_phone

LOOKUP_LIMIT = 20
PREFIX_CANDIDATES = 200
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
    return customer.contacts.prefetch_related(
        Prefetch(
            "phones",
            queryset=ContactPhone.objects.unscoped(
                "children of a customer already fetched through a scope"
            ).order_by("id"),
        )
    )


def find_by_phone(scope: Scope, raw: str) -> list[Contact]:
    """Contacts in scope having this number (any written form), each with ``.customer`` loaded.

    An invalid number raises ``ValidationFailed``; use ``lookup`` for a search box.
    """
    from .phones import normalize_phone

    return _contacts_with_number(scope, normalize_phone(raw))


def _contacts_with_number(scope: Scope, number: str) -> list[Contact]:
    return list(
        contacts_in_scope(scope)
        # At most one row per contact: (contact, number) is unique, so no DISTINCT is needed.
        .filter(phones__number=number)
        .select_related("customer__account_manager")
        .order_by("customer__name", "-is_primary", "name", "id")[:LOOKUP_LIMIT]
    )


def find_by_account(scope: Scope, account_number: str) -> Customer | None:
    return customers_in_scope(scope).filter(account_number__iexact=account_number.strip()).first()


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
        for customer in _name_prefix(scope, q):
            found.setdefault(customer.pk, customer)
    return list(found.values())[:LOOKUP_LIMIT]


def _name_prefix(scope: Scope, q: str) -> list[Customer]:
    """Up to LOOKUP_LIMIT customers whose name starts with ``q``, by name.

    Two steps, because "LIKE 'q%' ORDER BY name LIMIT n" makes PostgreSQL walk
    the collation-ordered index from the start and filter (200 ms at 100k rows):
    first up to PREFIX_CANDIDATES ids, unordered, through the pattern index that
    ``db_index`` gives the name; then those rows ordered. Case-sensitive on
    purpose (a plain LIKE); names are mostly Chinese.
    """
    ids = list(
        Customer.objects.scoped(scope)
        .filter(name__startswith=q)
        .order_by()
        .values_list("pk", flat=True)[:PREFIX_CANDIDATES]
    )
    return list(customers_in_scope(scope).filter(pk__in=ids).order_by("name", "id")[:LOOKUP_LIMIT])


def customer_list(
    scope: Scope, *, q: str = "", province: str = "", is_active: bool | None = None
) -> QuerySet[Customer]:
    """The filtered customer list: ``q`` is a name, an account-number prefix or a phone number.

    ``province`` (code or slug) narrows within the scope; naming a province
    outside it yields nothing rather than an error, like any other filter.
    """
    qs = customers_in_scope(scope)
    q = q.strip()
    if q:
        cond = Q(name__icontains=q) | Q(account_number__istartswith=q)
        number = try_normalize_phone(q)
        if number is not None:
            # A subquery, not a join: no duplicates, no DISTINCT; the outer scope still applies.
            owners = ContactPhone.objects.unscoped("filtered by the scoped customer query around it")
            cond |= Q(pk__in=owners.filter(number=number).values("contact__customer_id"))
        qs = qs.filter(cond)
    if province:
        qs = qs.filter(Q(province__code=province) | Q(province__slug=province.lower()))
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    return qs.order_by("province__report_order", "name", "id")


def account_managers_in_scope(scope: Scope) -> QuerySet[User]:
    """Active account managers of the provinces in scope (for the customer form)."""
    qs = User.objects.filter(
        is_active=True,
        memberships__is_active=True,
        memberships__role=Role.ACCOUNT_MANAGER,
        memberships__team__province__isnull=False,
    )
    if not scope.national:
        qs = qs.filter(memberships__team__province__in=scope.province_ids)
    return qs.distinct().order_by("username")


def lookup_contacts(scope: Scope, q: str) -> list[Contact]:
    """Contacts whose number is ``q`` when ``q`` is a phone number; none otherwise."""
    number = try_normalize_phone(q)
    return _contacts_with_number(scope, number) if number is not None else []
