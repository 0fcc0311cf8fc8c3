"""The only writers of customers, contacts and phones.

Each service checks ``customer.edit``, fetches (and locks) its rows through the
actor's scope, so a customer of another province is NotFound exactly like a
missing one, validates, writes, and appends one audit event with stable codes.
Edits carry the ``version`` the editor saw; a stale one gets 409 and the list
of fields changed since, read from the audit trail.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F

from kefu.core import audit
from kefu.core.codes import CoreCode
from kefu.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kefu.core.scope import Scope
from kefu.customers.codes import CustomerCode
from kefu.org.access import Actor
from kefu.org.models import Membership, Province, Role, User

from . import selectors
from .models import Contact, ContactPhone, Customer, Industry
from .phones import classify, normalize_phone, region_of

ACCOUNT_RE = re.compile(r"[A-Z0-9][A-Z0-9\-]{3,31}")
CUSTOMER_FIELDS = frozenset(
    {"name", "account_number", "province", "account_manager", "industry", "notes", "is_active"}
)
CONTACT_FIELDS = frozenset({"name", "title", "email", "is_primary"})
MAX_PHONES_PER_CONTACT = 10


def _invalid(field: str, zh: str, en: str, code: str = CoreCode.VALIDATION_ERROR) -> ValidationFailed:
    return ValidationFailed(zh, en, code=code, fields=[{"field": field, "message_en": en}])


# -- field cleaning (pure) ------------------------------------------------------


def clean_name(value: Any, *, field: str = "name", max_length: int = 120) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise _invalid(field, "名称不能为空。", f"{field} must not be empty.")
    if len(text) > max_length:
        raise _invalid(
            field, f"名称不能超过 {max_length} 个字符。", f"{field} is longer than {max_length} characters."
        )
    return text


def clean_account_number(value: Any) -> str:
    text = str(value or "").strip().upper()
    if not ACCOUNT_RE.fullmatch(text):
        raise _invalid(
            "account_number",
            "客户账号只能包含字母、数字和“-”，长度 4–32。",
            "The account number is 4-32 letters, digits or dashes.",
        )
    return text


def clean_industry(value: Any) -> str:
    text = str(value or "").strip()
    if text and text not in Industry.values:
        raise _invalid(
            "industry", "行业不在可选范围内。", f"Unknown industry; one of {', '.join(Industry.values)}."
        )
    return text


def clean_text(value: Any, *, field: str, max_length: int) -> str:
    text = str(value or "").strip()
    if len(text) > max_length:
        raise _invalid(
            field, f"内容不能超过 {max_length} 个字符。", f"{field} is longer than {max_length} characters."
        )
    return text


def clean_email(value: Any) -> str:
    text = str(value or "").strip()
    if text:
        try:
            validate_email(text)
        except DjangoValidationError:
            raise _invalid("email", "邮箱格式不正确。", "Invalid email address.") from None
    return text


def _clean_bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    raise _invalid(field, "取值应为是或否。", f"{field} must be true or false.")


# -- guards -------------------------------------------------------------------------


def edit_scope(actor: Actor) -> Scope:
    """The provinces where the actor may maintain customers: those of the seats granting ``customer.edit``.

    Not ``actor.scope``: that is the union of every seat's provinces, and a
    national seat without edit rights (a hotline agent) must not lend its reach
    to the edit rights of a provincial one (an account manager).
    """
    seats = actor.seats_with("customer.edit")
    if any(s.province_id is None for s in seats):
        return Scope.everything()
    return Scope.provinces(s.province_id for s in seats if s.province_id is not None)


def can_edit(actor: Actor, customer: Customer) -> bool:
    return edit_scope(actor).covers(customer.province_id)


def require_edit_in(actor: Actor, province: Province) -> None:
    actor.require("customer.edit")
    if not edit_scope(actor).covers(province.pk):
        raise Forbidden(
            "您不能在该省份维护客户。",
            "You cannot maintain customers of this province.",
            code=CustomerCode.PROVINCE_OUT_OF_SCOPE,
            details={"province": province.code},
        )


def _check_account_manager(user: User | None, province: Province) -> None:
    """The account manager must hold the account-manager role in a team of the customer's province."""
    if user is None:
        return
    ok = Membership.objects.filter(
        user=user, is_active=True, role=Role.ACCOUNT_MANAGER, team__province=province, user__is_active=True
    ).exists()
    if not ok:
        raise invalid_account_manager()


def invalid_account_manager() -> ValidationFailed:
    """One answer for an unknown user and for a user who is not an account manager of the province.

    Two different messages would tell whether a username exists in another province.
    """
    return _invalid(
        "account_manager",
        "客户经理须为该省有效的客户经理。",
        "The account manager must be an active account manager of the customer's province.",
    )


def _account_number_free(number: str, *, exclude_pk: int | None = None) -> None:
    # Account numbers are unique nationwide, so the check has to look everywhere.
    qs = Customer.objects.unscoped("account numbers are unique across all provinces").filter(
        account_number=number
    )
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise _account_number_taken()


def _account_number_taken() -> Conflict:
    return Conflict(
        "客户账号已存在。",
        "This account number is already in use.",
        code=CustomerCode.ACCOUNT_NUMBER_TAKEN,
        fields=[{"field": "account_number"}],
    )


def _audit(actor: Actor, verb: str, target: Any, province: Province, data: dict[str, Any]) -> None:
    audit.record(
        actor=actor.user,
        verb=verb,
        target=target,
        data=data,
        province_code=province.code,
        unit_code=actor.unit_code,
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, Province):
        return value.code
    if isinstance(value, User):
        return value.username
    return value


def _stale(customer: Customer, *, verb: str, contact_id: int | None, yours: int, current: int) -> Conflict:
    """409 naming the fields changed since ``yours``, with their values now, and who changed them.

    Every event of a customer and its contacts is written on the customer, so
    its timeline is the whole story; contact edits are told apart by ``contact_id``.
    """
    changed: dict[str, Any] = {}
    by: list[str] = []
    for event in audit.timeline(customer).filter(verb=verb):
        if event.data.get("contact_id") != contact_id or int(event.data.get("version", 0)) <= yours:
            continue
        for field, (_old, new) in event.data.get("changes", {}).items():
            changed[field] = new
        if event.actor_label not in by:
            by.append(event.actor_label)
    return Conflict(
        "资料已被他人修改，请刷新后重试。",
        "This record was changed by someone else; reload and try again.",
        code=CustomerCode.STALE_VERSION,
        details={"your_version": yours, "current_version": current, "changed": changed, "changed_by": by},
    )


def _check_version(customer: Customer, target: Customer | Contact, version: Any) -> None:
    if not isinstance(version, int) or isinstance(version, bool):
        raise _invalid("version", "缺少版本号。", "version (an integer) is required.")
    if version != target.version:
        if isinstance(target, Contact):
            raise _stale(
                customer,
                verb="customer.contact_updated",
                contact_id=target.pk,
                yours=version,
                current=target.version,
            )
        raise _stale(
            customer, verb="customer.updated", contact_id=None, yours=version, current=target.version
        )


# -- customers ------------------------------------------------------------------------


def customer_create(
    *,
    actor: Actor,
    name: str,
    account_number: str,
    province: Province,
    account_manager: User | None = None,
    industry: str = "",
    notes: str = "",
    is_active: bool = True,
) -> Customer:
    require_edit_in(actor, province)
    fields: dict[str, Any] = {
        "name": clean_name(name),
        "account_number": clean_account_number(account_number),
        "industry": clean_industry(industry),
        "notes": clean_text(notes, field="notes", max_length=2000),
        "is_active": _clean_bool(is_active, "is_active"),
    }
    _check_account_manager(account_manager, province)
    try:
        with transaction.atomic():
            _account_number_free(fields["account_number"])
            customer = Customer.objects.create(province=province, account_manager=account_manager, **fields)
            _audit(
                actor,
                "customer.created",
                customer,
                province,
                {
                    "version": 1,
                    "account_number": customer.account_number,
                    "name": customer.name,
                    "account_manager": account_manager.username if account_manager else None,
                },
            )
    except IntegrityError:
        # Two creations of the same account number raced past the check.
        raise _account_number_taken() from None
    return customer


def customer_update(*, actor: Actor, customer_id: int, version: int, changes: Mapping[str, Any]) -> Customer:
    """Change some fields of a customer; ``version`` is the one the editor saw."""
    actor.require("customer.edit")
    unknown = sorted(set(changes) - CUSTOMER_FIELDS)
    if unknown:
        raise _invalid(
            unknown[0], "包含不可修改的字段。", f"Unknown or read-only field(s): {', '.join(unknown)}."
        )
    try:
        with transaction.atomic():
            customer = selectors.customer_for_update(actor.scope, customer_id)
            require_edit_in(actor, customer.province)
            _check_version(customer, customer, version)
            cleaned = _clean_customer_changes(customer, changes)
            if "province" in cleaned:
                require_edit_in(actor, cleaned["province"])
            _check_account_manager(
                cleaned.get("account_manager", customer.account_manager),
                cleaned.get("province", customer.province),
            )
            if "account_number" in cleaned:
                _account_number_free(cleaned["account_number"], exclude_pk=customer.pk)
            diff = {
                f: [_jsonable(getattr(customer, f)), _jsonable(v)]
                for f, v in cleaned.items()
                if getattr(customer, f) != v
            }
            if not diff:
                return customer
            for f, v in cleaned.items():
                setattr(customer, f, v)
            customer.version = F("version") + 1
            customer.save()
            customer.refresh_from_db()
            _audit(
                actor,
                "customer.updated",
                customer,
                customer.province,
                {"version": customer.version, "changes": diff},
            )
    except IntegrityError:
        raise _account_number_taken() from None
    return customer


def _clean_customer_changes(customer: Customer, changes: Mapping[str, Any]) -> dict[str, Any]:
    cleaners: dict[str, Callable[[Any], Any]] = {
        "name": clean_name,
        "account_number": clean_account_number,
        "industry": clean_industry,
        "notes": lambda v: clean_text(v, field="notes", max_length=2000),
        "is_active": lambda v: _clean_bool(v, "is_active"),
    }
    out: dict[str, Any] = {}
    for field, value in changes.items():
        if field in cleaners:
            out[field] = cleaners[field](value)
        elif field == "province":
            if not isinstance(value, Province):
                raise _invalid("province", "省份无效。", "Unknown province.")
            out[field] = value
        elif field == "account_manager":
            if value is not None and not isinstance(value, User):
                raise _invalid("account_manager", "客户经理无效。", "Unknown account manager.")
            out[field] = value
    return out


# -- contacts and phones ------------------------------------------------------------


def _clean_phones(raws: list[str]) -> list[str]:
    numbers: list[str] = []
    for raw in raws:
        number = normalize_phone(raw)
        if number not in numbers:
            numbers.append(number)
    if len(numbers) > MAX_PHONES_PER_CONTACT:
        raise _invalid(
            "phones",
            f"每位联系人最多 {MAX_PHONES_PER_CONTACT} 个号码。",
            f"At most {MAX_PHONES_PER_CONTACT} numbers per contact.",
        )
    return numbers


def _demote_primary(customer: Customer, keep: Contact | None = None) -> None:
    qs = customer.contacts.filter(is_primary=True)
    if keep is not None:
        qs = qs.exclude(pk=keep.pk)
    qs.update(is_primary=False)


def contact_add(
    *,
    actor: Actor,
    customer_id: int,
    name: str,
    title: str = "",
    email: str = "",
    is_primary: bool = False,
    phones: list[str] | None = None,
) -> Contact:
    actor.require("customer.edit")
    fields = {
        "name": clean_name(name, max_length=60),
        "title": clean_text(title, field="title", max_length=60),
        "email": clean_email(email),
        "is_primary": _clean_bool(is_primary, "is_primary"),
    }
    numbers = _clean_phones(list(phones or []))
    with transaction.atomic():
        # Locking the customer serialises primary-contact changes of one customer.
        customer = selectors.customer_for_update(actor.scope, customer_id)
        require_edit_in(actor, customer.province)
        if fields["is_primary"]:
            _demote_primary(customer)
        contact = Contact.objects.create(customer=customer, **fields)
        ContactPhone.objects.bulk_create(
            [ContactPhone(contact=contact, number=n, kind=classify(n)) for n in numbers]
        )
        _audit(
            actor,
            "customer.contact_added",
            customer,
            customer.province,
            {
                "contact_id": contact.pk,
                "name": contact.name,
                "phones": numbers,
                "is_primary": contact.is_primary,
            },
        )
    return contact


def contact_update(*, actor: Actor, contact_id: int, version: int, changes: Mapping[str, Any]) -> Contact:
    actor.require("customer.edit")
    unknown = sorted(set(changes) - CONTACT_FIELDS)
    if unknown:
        raise _invalid(
            unknown[0], "包含不可修改的字段。", f"Unknown or read-only field(s): {', '.join(unknown)}."
        )
    cleaners: dict[str, Callable[[Any], Any]] = {
        "name": lambda v: clean_name(v, max_length=60),
        "title": lambda v: clean_text(v, field="title", max_length=60),
        "email": clean_email,
        "is_primary": lambda v: _clean_bool(v, "is_primary"),
    }
    cleaned = {f: cleaners[f](v) for f, v in changes.items()}
    with transaction.atomic():
        contact = selectors.contact_in_scope(actor.scope, contact_id)
        customer = selectors.customer_for_update(actor.scope, contact.customer_id)
        require_edit_in(actor, customer.province)
        contact = Contact.objects.scoped(actor.scope).select_for_update().get(pk=contact.pk)
        _check_version(customer, contact, version)
        diff = {f: [getattr(contact, f), v] for f, v in cleaned.items() if getattr(contact, f) != v}
        if not diff:
            return contact
        if cleaned.get("is_primary"):
            _demote_primary(customer, keep=contact)
        for f, v in cleaned.items():
            setattr(contact, f, v)
        contact.version = F("version") + 1
        contact.save()
        contact.refresh_from_db()
        _audit(
            actor,
            "customer.contact_updated",
            customer,
            customer.province,
            {"contact_id": contact.pk, "version": contact.version, "changes": diff},
        )
    return contact


def phone_add(*, actor: Actor, contact_id: int, number: str) -> ContactPhone:
    actor.require("customer.edit")
    canonical = normalize_phone(number)
    with transaction.atomic():
        contact = selectors.contact_in_scope(actor.scope, contact_id)
        customer = selectors.customer_for_update(actor.scope, contact.customer_id)
        require_edit_in(actor, customer.province)
        existing = list(contact.phones.values_list("number", flat=True))
        if canonical in existing:
            raise _phone_exists(canonical)
        if len(existing) >= MAX_PHONES_PER_CONTACT:
            raise _invalid(
                "number",
                f"每位联系人最多 {MAX_PHONES_PER_CONTACT} 个号码。",
                f"At most {MAX_PHONES_PER_CONTACT} numbers per contact.",
            )
        try:
            with transaction.atomic():
                phone = ContactPhone.objects.create(
                    contact=contact, number=canonical, kind=classify(canonical)
                )
        except IntegrityError:
            # Only where row locks are not real (SQLite): the same number added twice at once.
            raise _phone_exists(canonical) from None
        _audit(
            actor,
            "customer.phone_added",
            customer,
            customer.province,
            {"contact_id": contact.pk, "number": canonical},
        )
    return phone


def _phone_exists(number: str) -> Conflict:
    return Conflict(
        "该联系人已有此号码。",
        "The contact already has this number.",
        code=CustomerCode.PHONE_EXISTS,
        fields=[{"field": "number", "number": number}],
    )


def phone_remove(*, actor: Actor, phone_id: int) -> None:
    actor.require("customer.edit")
    with transaction.atomic():
        phone = ContactPhone.objects.scoped(actor.scope).select_related("contact").filter(pk=phone_id).first()
        if phone is None:
            raise NotFound()
        customer = selectors.customer_for_update(actor.scope, phone.contact.customer_id)
        require_edit_in(actor, customer.province)
        number, contact_id = phone.number, phone.contact_id
        phone.delete()
        _audit(
            actor,
            "customer.phone_removed",
            customer,
            customer.province,
            {"contact_id": contact_id, "number": number},
        )


UNIDENTIFIED_NAME = "未识别客户（在线留言）"
UNIDENTIFIED_ACCOUNT = "ONLINE-UNMATCHED-{slug}"


def province_of_number(raw: str) -> Province | None:
    """The province a Chinese number is registered in (mobile prefix or area code), or None."""
    where = region_of(raw)
    if not where:
        return None
    for p in Province.objects.all():
        if where.startswith((p.full_name, p.name)):
            return p
    return None


def unidentified_account(*, province: Province, actor: Actor, verb: str, data: dict[str, Any]) -> Customer:
    """The province's 未识别客户（在线留言） account, for contacts whose customer is not known (an online
    left message): made on first need and audited with ``verb``. A system writer: the recording agent
    need not have the right to create customers (the visitor's own details go on the order)."""
    customer, made = Customer.objects.unscoped(
        "customers: the province's account for left messages of unidentified visitors"
    ).get_or_create(
        account_number=UNIDENTIFIED_ACCOUNT.format(slug=province.slug.upper()),
        defaults={
            "name": UNIDENTIFIED_NAME,
            "province": province,
            "notes": "在线留言未能匹配到客户时使用；留言人的姓名、单位和电话记在工单上。",
        },
    )
    if made:
        _audit(actor, verb, customer, province, {"account_number": customer.account_number, **data})
    return customer
