"""Admin for customers: scoped to the administrator's provinces and read-only.

Customers, contacts and phones change only through ``services`` (the customer
pages and the API), so every change is versioned and audited; the admin is for
looking things up.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kefu.core.admin import ScopedAdmin
from kefu.core.scope import as_scoped
from kefu.core.web import actor_of

from .models import Contact, ContactPhone, Customer
from .phones import try_normalize_phone


class _PhoneSearch(admin.ModelAdmin):
    """Search by a number in any written form: it is normalised before matching."""

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> Any:
        number = try_normalize_phone(search_term)
        return super().get_search_results(request, queryset, number or search_term)


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ContactInline(_ReadOnly, admin.TabularInline):
    model = Contact
    fields = ("name", "title", "email", "is_primary", "version")
    extra = 0
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> Any:
        return as_scoped(super().get_queryset(request)).scoped(actor_of(request).scope)


class PhoneInline(_ReadOnly, admin.TabularInline):
    model = ContactPhone
    fields = ("number", "kind", "created_at")
    extra = 0

    def get_queryset(self, request: HttpRequest) -> Any:
        return as_scoped(super().get_queryset(request)).scoped(actor_of(request).scope)


@admin.register(Customer)
class CustomerAdmin(_PhoneSearch, _ReadOnly, ScopedAdmin):
    list_display = (
        "name",
        "account_number",
        "province",
        "account_manager",
        "industry",
        "is_active",
        "updated_at",
    )
    list_filter = ("province", "industry", "is_active")
    search_fields = ("name", "account_number", "contacts__phones__number")
    list_select_related = ("province", "account_manager")
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(_PhoneSearch, _ReadOnly, ScopedAdmin):
    list_display = ("name", "customer", "title", "email", "is_primary")
    search_fields = ("name", "customer__name", "phones__number")
    list_select_related = ("customer",)
    inlines = [PhoneInline]


@admin.register(ContactPhone)
class ContactPhoneAdmin(_PhoneSearch, _ReadOnly, ScopedAdmin):
    list_display = ("number", "kind", "contact")
    search_fields = ("number",)
    list_select_related = ("contact__customer",)
