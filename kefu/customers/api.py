"""Customers API: list and search, detail, create, update (versioned), lookup by phone, contacts, phones."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from kefu.core.api import OneOf, StrictSchema
from kefu.core.errors import ValidationFailed
from kefu.core.web import actor_of
from kefu.org.models import Province, User

from . import selectors, services
from .models import Contact, ContactPhone, Customer, Industry, PhoneKind
from .phones import format_phone

router = Router(tags=["customers"])

MAX_PAGE_SIZE = 100
IndustryOrBlank = Annotated[str, OneOf(Industry, blank=True)]
# services.ACCOUNT_RE after strip and upper-casing: 4-32 letters, digits or dashes, not starting with a dash.
ACCOUNT_NUMBER = r"^[A-Za-z0-9][A-Za-z0-9-]{3,31}$"


# -- schemas ------------------------------------------------------------------------


class ProvinceRef(Schema):
    code: str
    name: str


class PhoneOut(Schema):
    id: int
    number: str
    display: str
    kind: Annotated[str, OneOf(PhoneKind)]


class ContactOut(Schema):
    id: int
    customer_id: int
    name: str
    title: str
    email: str
    is_primary: bool
    version: int
    phones: list[PhoneOut]


class CustomerOut(Schema):
    id: int
    name: str
    account_number: str
    province: ProvinceRef
    account_manager: str | None
    account_manager_name: str | None
    industry: IndustryOrBlank
    notes: str
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class CustomerDetailOut(CustomerOut):
    contacts: list[ContactOut]


class CustomerPage(Schema):
    items: list[CustomerOut]
    count: int
    page: int
    page_size: int


class LookupMatch(Schema):
    customer: CustomerOut
    contact: ContactOut | None


class ListFilters(Schema):
    q: str = Field(
        "", max_length=100, description="名称、账号前缀或电话 / name, account-number prefix or phone"
    )
    province: str = Field("", max_length=6, description="省份代码或简码(全国角色) / province code or slug")
    is_active: bool | None = None
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)


class CustomerLookupQuery(Schema):
    phone: str = Field("", max_length=40, description="来电号码，任意写法 / caller's number, any form")
    q: str = Field(
        "", max_length=100, description="电话、账号或名称前缀 / phone, account number or name prefix"
    )


class CustomerIn(StrictSchema):
    name: str = Field(min_length=1, max_length=120, pattern=r"\S")
    account_number: str = Field(max_length=32, pattern=ACCOUNT_NUMBER)
    province: str = Field(
        "", max_length=6, description="省份代码或简码；省级用户可省略 / province code or slug"
    )
    account_manager: str | None = Field(None, max_length=150, description="客户经理用户名 / username")
    industry: IndustryOrBlank = ""
    notes: str = Field("", max_length=2000)
    is_active: bool = True


class CustomerPatch(StrictSchema):
    """Only the fields sent change; ``null`` is a value only for ``account_manager`` (clears it)."""

    version: int = Field(ge=1)
    name: str = Field(None, min_length=1, max_length=120, pattern=r"\S")  # type: ignore[assignment]  # absent = unchanged; null refused
    account_number: str = Field(None, max_length=32, pattern=ACCOUNT_NUMBER)  # type: ignore[assignment]
    province: str = Field(None, max_length=6)  # type: ignore[assignment]
    account_manager: str | None = Field(
        None, max_length=150, description="用户名；空串或 null 表示清除 / '' or null clears"
    )
    industry: IndustryOrBlank = Field(None)  # type: ignore[assignment]
    notes: str = Field(None, max_length=2000)  # type: ignore[assignment]
    is_active: bool = Field(None)  # type: ignore[assignment]


class ContactIn(StrictSchema):
    name: str = Field(min_length=1, max_length=60, pattern=r"\S")
    title: str = Field("", max_length=60)
    email: str = Field("", max_length=254)
    is_primary: bool = False
    phones: list[str] = Field(default_factory=list, max_length=10)


class ContactPatch(StrictSchema):
    """Only the fields sent change; ``null`` is not a value (the document says so: no field is nullable)."""

    version: int = Field(ge=1)
    name: str = Field(None, min_length=1, max_length=60, pattern=r"\S")  # type: ignore[assignment]  # absent = unchanged; null refused
    title: str = Field(None, max_length=60)  # type: ignore[assignment]
    email: str = Field(None, max_length=254)  # type: ignore[assignment]
    is_primary: bool = Field(None)  # type: ignore[assignment]


class PhoneIn(StrictSchema):
    number: str = Field(max_length=40)


# -- conversion -----------------------------------------------------------------------


def _customer_out(c: Customer) -> dict[str, Any]:
    am = c.account_manager
    return {
        "id": c.pk,
        "name": c.name,
        "account_number": c.account_number,
        "province": {"code": c.province.code, "name": c.province.name},
        "account_manager": am.username if am else None,
        "account_manager_name": (am.display_name or am.username) if am else None,
        "industry": c.industry,
        "notes": c.notes,
        "is_active": c.is_active,
        "version": c.version,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }


def _phone_out(p: ContactPhone) -> dict[str, Any]:
    return {"id": p.pk, "number": p.number, "display": format_phone(p.number), "kind": p.kind}


def _contact_out(c: Contact) -> dict[str, Any]:
    return {
        "id": c.pk,
        "customer_id": c.customer_id,
        "name": c.name,
        "title": c.title,
        "email": c.email,
        "is_primary": c.is_primary,
        "version": c.version,
        "phones": [_phone_out(p) for p in c.phones.all()],
    }


def _province(ref: str) -> Province:
    province = Province.objects.filter(code=ref).first() or Province.objects.filter(slug=ref.lower()).first()
    if province is None:
        raise ValidationFailed("省份无效。", "Unknown province.", fields=[{"field": "province"}])
    return province


def _default_province(request: HttpRequest, ref: str) -> Province:
    if ref:
        return _province(ref)
    # Where the actor may create customers, not where they may look (a hotline seat sees every province).
    scope = services.edit_scope(actor_of(request))
    if not scope.national and len(scope.province_ids) == 1:
        return Province.objects.get(pk=next(iter(scope.province_ids)))
    raise ValidationFailed("请指定省份。", "province is required.", fields=[{"field": "province"}])


def _user(username: str) -> User:
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise services.invalid_account_manager()
    return user


# -- customers ------------------------------------------------------------------------


@router.get("", response=CustomerPage, summary="客户列表 / List customers")
def customer_list(request: HttpRequest, filters: Query[ListFilters]) -> dict[str, Any]:
    actor = actor_of(request)
    actor.require("customer.view")
    qs = selectors.customer_list(
        actor.scope, q=filters.q, province=filters.province, is_active=filters.is_active
    )
    start = (filters.page - 1) * filters.page_size
    items = list(qs[start : start + filters.page_size])
    return {
        "items": [_customer_out(c) for c in items],
        "count": qs.count(),
        "page": filters.page,
        "page_size": filters.page_size,
    }


@router.get(
    "/lookup",
    response=list[LookupMatch],
    summary="按来电号码/账号/名称查找 / Look up a caller",
    description="phone 与 q 至少给一个；都没有时答复 422，details 指出 phone。 / Give phone or q (at least one); "
    "with neither the answer is 422 with the error body, details naming phone.",
)
def customer_lookup(request: HttpRequest, params: Query[CustomerLookupQuery]) -> list[dict[str, Any]]:
    actor = actor_of(request)
    actor.require("customer.view")
    if params.phone:
        contacts = selectors.find_by_phone(actor.scope, params.phone)
        return [{"customer": _customer_out(c.customer), "contact": _contact_out(c)} for c in contacts]
    if params.q:
        return [
            {"customer": _customer_out(c), "contact": None} for c in selectors.lookup(actor.scope, params.q)
        ]
    raise ValidationFailed("请提供电话号码或查询词。", "Give phone or q.", fields=[{"field": "phone"}])


@router.post("", response={201: CustomerDetailOut}, summary="新建客户 / Create a customer")
def customer_create(request: HttpRequest, payload: CustomerIn) -> Status[dict[str, Any]]:
    actor = actor_of(request)
    actor.require("customer.edit")
    customer = services.customer_create(
        actor=actor,
        name=payload.name,
        account_number=payload.account_number,
        province=_default_province(request, payload.province),
        account_manager=_user(payload.account_manager) if payload.account_manager else None,
        industry=payload.industry,
        notes=payload.notes,
        is_active=payload.is_active,
    )
    return Status(201, _detail(actor, customer.pk))


def _detail(actor: Any, customer_id: int) -> dict[str, Any]:
    customer = selectors.customer_in_scope(actor.scope, customer_id)
    return {**_customer_out(customer), "contacts": [_contact_out(c) for c in selectors.contacts_of(customer)]}


@router.get("/{customer_id}", response=CustomerDetailOut, summary="客户详情 / Customer detail")
def customer_detail(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    actor = actor_of(request)
    actor.require("customer.view")
    return _detail(actor, customer_id)


@router.patch("/{customer_id}", response=CustomerDetailOut, summary="修改客户(带版本号) / Update a customer")
def customer_update(request: HttpRequest, customer_id: int, payload: CustomerPatch) -> dict[str, Any]:
    actor = actor_of(request)
    actor.require("customer.edit")
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    changes: dict[str, Any] = {}
    for field, value in data.items():
        if value is None and field != "account_manager":
            raise ValidationFailed(
                "字段不能为 null。", f"{field} must not be null.", fields=[{"field": field}]
            )
        if field == "province":
            changes[field] = _province(value)
        elif field == "account_manager":
            changes[field] = _user(value) if value else None
        else:
            changes[field] = value
    services.customer_update(actor=actor, customer_id=customer_id, version=version, changes=changes)
    return _detail(actor, customer_id)


# -- contacts and phones ------------------------------------------------------------


@router.get(
    "/{customer_id}/contacts", response=list[ContactOut], summary="客户联系人 / Contacts of a customer"
)
def contact_list(request: HttpRequest, customer_id: int) -> list[dict[str, Any]]:
    actor = actor_of(request)
    actor.require("customer.view")
    customer = selectors.customer_in_scope(actor.scope, customer_id)
    return [_contact_out(c) for c in selectors.contacts_of(customer)]


@router.post("/{customer_id}/contacts", response={201: ContactOut}, summary="新增联系人 / Add a contact")
def contact_add(request: HttpRequest, customer_id: int, payload: ContactIn) -> Status[dict[str, Any]]:
    actor = actor_of(request)
    contact = services.contact_add(
        actor=actor,
        customer_id=customer_id,
        name=payload.name,
        title=payload.title,
        email=payload.email,
        is_primary=payload.is_primary,
        phones=payload.phones,
    )
    return Status(201, _contact_out(selectors.contact_in_scope(actor.scope, contact.pk)))


@router.patch(
    "/contacts/{contact_id}", response=ContactOut, summary="修改联系人(带版本号) / Update a contact"
)
def contact_update(request: HttpRequest, contact_id: int, payload: ContactPatch) -> dict[str, Any]:
    actor = actor_of(request)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    for field, value in data.items():
        if value is None:
            raise ValidationFailed(
                "字段不能为 null。", f"{field} must not be null.", fields=[{"field": field}]
            )
    services.contact_update(actor=actor, contact_id=contact_id, version=version, changes=data)
    return _contact_out(selectors.contact_in_scope(actor.scope, contact_id))


@router.post(
    "/contacts/{contact_id}/phones", response={201: PhoneOut}, summary="新增号码 / Add a phone number"
)
def phone_add(request: HttpRequest, contact_id: int, payload: PhoneIn) -> Status[dict[str, Any]]:
    actor = actor_of(request)
    phone = services.phone_add(actor=actor, contact_id=contact_id, number=payload.number)
    return Status(201, _phone_out(phone))


@router.delete("/phones/{phone_id}", response={204: None}, summary="删除号码 / Remove a phone number")
def phone_remove(request: HttpRequest, phone_id: int) -> Status[None]:
    actor = actor_of(request)
    services.phone_remove(actor=actor, phone_id=phone_id)
    return Status(204, None)
