"""Web UI of customers: list and search, customer page, create/edit forms, and the caller-lookup fragment."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.core import audit
from kefu.core.errors import DomainError, ValidationFailed
from kefu.core.web import actor_of, actor_required, error_page, is_htmx
from kefu.org.models import Province, User
from kefu.org.selectors import provinces_in_scope

from . import selectors, services
from .models import Customer, Industry

PAGE_SIZE = 25
# Templates the tickets app may ship to show a customer's work orders here; customers cannot import tickets.
CUSTOMER_ORDERS_TEMPLATE = "tickets/_customer_orders.html"
LOOKUP_ORDERS_TEMPLATE = "tickets/_lookup_orders.html"
# The orders block costs a query per customer and the fragment is fetched as the agent types: only the best
# matches get it (a caller's number nearly always finds one customer; a name prefix may find twenty).
LOOKUP_ORDERS_FOR = 3


def optional_template(name: str) -> str | None:
    """``name`` if some app provides it (Django's include has no "ignore missing")."""
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return None
    return name


FORM_FIELDS = ("name", "account_number", "province", "account_manager", "industry", "notes")


@require_GET
@actor_required("customer.view")
def customer_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    q = request.GET.get("q", "")[:100]
    province = request.GET.get("province", "")[:6] if actor.scope.national else ""
    qs = selectors.customer_list(actor.scope, q=q, province=province)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "q": q,
        "province": province,
        "can_edit": not services.edit_scope(actor).is_empty,
        "provinces": provinces_in_scope(actor.scope) if actor.scope.national else [],
    }
    template = "customers/_results.html" if is_htmx(request) else "customers/list.html"
    return render(request, template, context)


@require_GET
@actor_required("customer.view")
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    customer = selectors.customer_in_scope(actor.scope, pk)
    return render(
        request,
        "customers/detail.html",
        {**_detail_context(customer), "can_edit": services.can_edit(actor, customer)},
    )


def _detail_context(customer: Customer) -> dict[str, Any]:
    events = [
        {"event": e, "label": audit.verb_label(e.verb)} for e in audit.timeline(customer).order_by("-at")[:50]
    ]
    return {
        "customer": customer,
        "contacts": selectors.contacts_of(customer),
        "events": events,
        "orders_template": optional_template(CUSTOMER_ORDERS_TEMPLATE),
    }


def _form_changes(request: HttpRequest) -> dict[str, Any]:
    """Form fields as service arguments: province and account manager resolved, nothing else interpreted."""
    data: dict[str, Any] = {
        f: request.POST.get(f, "") for f in ("name", "account_number", "industry", "notes")
    }
    data["is_active"] = request.POST.get("is_active") == "on"
    province_id = request.POST.get("province", "")
    province = Province.objects.filter(pk=int(province_id)).first() if province_id.isdigit() else None
    if province is None:
        raise ValidationFailed("请选择省份。", "Choose a province.", fields=[{"field": "province"}])
    data["province"] = province
    am_id = request.POST.get("account_manager", "")
    data["account_manager"] = (
        User.objects.filter(pk=int(am_id), is_active=True).first() if am_id.isdigit() else None
    )
    if am_id and data["account_manager"] is None:
        raise services.invalid_account_manager()
    return data


def _form(
    request: HttpRequest,
    *,
    customer: Customer | None,
    values: dict[str, Any],
    error: DomainError | None = None,
) -> HttpResponse:
    actor = actor_of(request)
    context = {
        "customer": customer,
        "values": values,
        "error": error,
        "provinces": provinces_in_scope(services.edit_scope(actor)),
        "account_managers": selectors.account_managers_in_scope(services.edit_scope(actor)),
        "industries": Industry.choices,
    }
    return render(request, "customers/form.html", context, status=error.status if error else 200)


@require_http_methods(["GET", "POST"])
@actor_required("customer.edit")
def customer_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if request.method == "GET":
        return _form(request, customer=None, values={"is_active": True})
    try:
        data = _form_changes(request)
        customer = services.customer_create(actor=actor, **data)
    except DomainError as exc:
        return _form(request, customer=None, values=request.POST.dict(), error=exc)
    messages.success(request, _("客户已创建。"))
    return redirect("customers:detail", pk=customer.pk)


@require_http_methods(["GET", "POST"])
@actor_required("customer.edit")
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    customer = selectors.customer_in_scope(actor.scope, pk)
    services.require_edit_in(actor, customer.province)  # seen through another seat: no form to fill in vain
    if request.method == "GET":
        values = {
            f: getattr(customer, f"{f}_id" if f in ("province", "account_manager") else f)
            for f in FORM_FIELDS
        }
        values.update(is_active=customer.is_active, version=customer.version)
        return _form(request, customer=customer, values=values)
    version = request.POST.get("version", "")
    try:
        changes = _form_changes(request)
        services.customer_update(
            actor=actor,
            customer_id=customer.pk,
            version=int(version) if version.isdigit() else -1,
            changes=changes,
        )
    except DomainError as exc:
        return _form(request, customer=customer, values=request.POST.dict(), error=exc)
    messages.success(request, _("客户资料已保存。"))
    return redirect("customers:detail", pk=customer.pk)


@require_POST
@actor_required("customer.edit")
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    customer = selectors.customer_in_scope(actor.scope, pk)
    phones = [
        p
        for p in request.POST.get("phones", "").replace("，", ",").replace("、", ",").split(",")
        if p.strip()
    ]
    try:
        services.contact_add(
            actor=actor,
            customer_id=customer.pk,
            name=request.POST.get("name", ""),
            title=request.POST.get("title", ""),
            email=request.POST.get("email", ""),
            is_primary=request.POST.get("is_primary") == "on",
            phones=phones,
        )
    except DomainError as exc:
        return error_page(request, exc)
    messages.success(request, _("联系人已添加。"))
    return redirect("customers:detail", pk=customer.pk)


@require_POST
@actor_required("customer.edit")
def phone_add(request: HttpRequest, contact_pk: int) -> HttpResponse:
    actor = actor_of(request)
    contact = selectors.contact_in_scope(actor.scope, contact_pk)
    try:
        services.phone_add(actor=actor, contact_id=contact.pk, number=request.POST.get("number", ""))
    except DomainError as exc:
        return error_page(request, exc)
    messages.success(request, _("号码已添加。"))
    return redirect("customers:detail", pk=contact.customer_id)


@require_GET
@actor_required("customer.view")
def lookup(request: HttpRequest) -> HttpResponse:
    """htmx fragment: customers matching a caller's number, an account number or a name prefix.

    Used by the work-order create form as the agent types, so an incomplete or
    malformed number is not an error here, just no match yet.
    """
    actor = actor_of(request)
    q = (request.GET.get("phone") or request.GET.get("q") or "")[:100].strip()
    matches: list[dict[str, Any]] = []
    if q:
        contacts = selectors.lookup_contacts(actor.scope, q)
        for i, customer in enumerate(selectors.lookup(actor.scope, q)):
            matches.append(
                {
                    "customer": customer,
                    "contacts": [c for c in contacts if c.customer_id == customer.pk],
                    "show_orders": i < LOOKUP_ORDERS_FOR,
                }
            )
    return render(
        request,
        "customers/_lookup.html",
        {
            "q": q,
            "matches": matches,
            "orders_template": optional_template(LOOKUP_ORDERS_TEMPLATE),
            "orders_for": LOOKUP_ORDERS_FOR,
            "orders_cut": len(matches) > LOOKUP_ORDERS_FOR,
        },
    )
