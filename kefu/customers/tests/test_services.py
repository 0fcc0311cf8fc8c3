"""Services: validation, permissions, scope, optimistic concurrency, audit."""

from __future__ import annotations

import pytest

from kefu.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.customers import selectors, services
from kefu.customers.models import Contact, ContactPhone, Customer
from kefu.customers.tests.factories import ContactFactory, CustomerFactory, province
from kefu.org.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead_bj(make_actor):
    return make_actor("lead_bj", "desk_bj", Role.SUPERVISOR)


@pytest.fixture
def lead_sh(make_actor):
    return make_actor("lead_sh", "desk_sh", Role.SUPERVISOR)


@pytest.fixture
def am_bj(make_actor):
    return make_actor("am_bj", "am_bj", Role.ACCOUNT_MANAGER)


def counts():
    everything = "test bookkeeping"
    return (
        Customer.objects.unscoped(everything).count(),
        Contact.objects.unscoped(everything).count(),
        ContactPhone.objects.unscoped(everything).count(),
        AuditEvent.objects.count(),
    )


def test_create_customer_writes_one_audit_event(lead_bj, am_bj):
    customer = services.customer_create(
        actor=lead_bj,
        name="  北京市  应急管理局 ",
        account_number="xst-bj-001",
        province=province("bj"),
        account_manager=am_bj.user,
        industry="government",
    )
    assert customer.name == "北京市 应急管理局"
    assert customer.account_number == "XST-BJ-001"
    assert customer.version == 1
    event = AuditEvent.objects.get(verb="customer.created")
    assert event.target_id == str(customer.pk) and event.province_code == "110000"
    assert event.data["account_manager"] == "am_bj"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": " "}, "name"),
        ({"name": "名" * 121}, "name"),
        ({"account_number": "X"}, "account_number"),
        ({"account_number": "含中文账号"}, "account_number"),
        ({"industry": "casino"}, "industry"),
        ({"is_active": "yes"}, "is_active"),
    ],
)
def test_create_refuses_bad_fields_and_writes_nothing(lead_bj, kwargs, field):
    before = counts()
    args = {"name": "北京客户", "account_number": "XST-BJ-002", "province": province("bj")} | kwargs
    with pytest.raises(ValidationFailed) as info:
        services.customer_create(actor=lead_bj, **args)
    assert info.value.fields[0]["field"] == field
    assert counts() == before


def test_account_manager_must_belong_to_the_province(lead_bj, am_gd):
    with pytest.raises(ValidationFailed) as info:
        services.customer_create(
            actor=lead_bj,
            name="北京客户",
            account_number="XST-BJ-003",
            province=province("bj"),
            account_manager=am_gd.user,
        )
    assert info.value.fields[0]["field"] == "account_manager"
    assert not Customer.objects.unscoped("test").exists()


def test_account_number_is_unique_nationwide(lead_bj, lead_sh):
    CustomerFactory(province=province("sh"), account_number="XST-0001")
    before = counts()
    with pytest.raises(Conflict) as info:
        services.customer_create(
            actor=lead_bj, name="北京客户", account_number="xst-0001", province=province("bj")
        )
    assert info.value.code == "account_number_taken" and info.value.status == 409
    assert counts() == before


def test_agent_may_not_edit(agent_bj):
    customer = CustomerFactory()
    before = counts()
    with pytest.raises(Forbidden):
        services.customer_create(
            actor=agent_bj, name="北京客户", account_number="XST-BJ-9", province=province("bj")
        )
    with pytest.raises(Forbidden):
        services.customer_update(actor=agent_bj, customer_id=customer.pk, version=1, changes={"name": "改名"})
    assert counts() == before


def test_create_in_another_province_is_forbidden(lead_bj):
    with pytest.raises(Forbidden) as info:
        services.customer_create(
            actor=lead_bj, name="上海客户", account_number="XST-SH-1", province=province("sh")
        )
    assert info.value.code == "province_out_of_scope"
    assert not Customer.objects.unscoped("test").exists()


def test_update_bumps_version_and_records_the_diff(lead_bj):
    customer = CustomerFactory(name="旧名称")
    updated = services.customer_update(
        actor=lead_bj, customer_id=customer.pk, version=1, changes={"name": "新名称", "notes": "重点保障"}
    )
    assert (updated.name, updated.notes, updated.version) == ("新名称", "重点保障", 2)
    event = AuditEvent.objects.get(verb="customer.updated")
    assert event.data == {"version": 2, "changes": {"name": ["旧名称", "新名称"], "notes": ["", "重点保障"]}}


def test_update_without_change_writes_nothing(lead_bj):
    customer = CustomerFactory(name="同名")
    before = counts()
    same = services.customer_update(
        actor=lead_bj, customer_id=customer.pk, version=1, changes={"name": "同名"}
    )
    assert same.version == 1 and counts() == before


def test_stale_version_is_409_with_what_changed(lead_bj, make_actor):
    other = make_actor("lead_bj2", "desk_bj", Role.SUPERVISOR)
    customer = CustomerFactory(name="原名")
    services.customer_update(actor=other, customer_id=customer.pk, version=1, changes={"name": "他人改名"})
    before = counts()
    with pytest.raises(Conflict) as info:
        services.customer_update(
            actor=lead_bj, customer_id=customer.pk, version=1, changes={"notes": "我的备注"}
        )
    err = info.value
    assert err.status == 409 and err.code == "stale_version"
    assert err.details == {
        "your_version": 1,
        "current_version": 2,
        "changed": {"name": "他人改名"},
        "changed_by": ["lead_bj2"],
    }
    assert counts() == before
    assert Customer.objects.unscoped("test").get().notes == ""


def test_update_refuses_unknown_fields(lead_bj):
    customer = CustomerFactory()
    with pytest.raises(ValidationFailed):
        services.customer_update(actor=lead_bj, customer_id=customer.pk, version=1, changes={"version": 7})
    with pytest.raises(ValidationFailed):
        services.customer_update(actor=lead_bj, customer_id=customer.pk, version="1", changes={"name": "x"})


def test_out_of_scope_update_is_not_found_and_changes_nothing(lead_bj):
    customer = CustomerFactory(province=province("sh"), name="上海客户")
    before = counts()
    with pytest.raises(NotFound) as denied:
        services.customer_update(actor=lead_bj, customer_id=customer.pk, version=1, changes={"name": "越权"})
    with pytest.raises(NotFound) as missing:
        services.customer_update(actor=lead_bj, customer_id=987654321, version=1, changes={"name": "越权"})
    assert denied.value.as_dict() == missing.value.as_dict()
    assert counts() == before


def test_moving_a_customer_needs_both_provinces(lead_bj, admin_actor):
    customer = CustomerFactory()
    with pytest.raises(Forbidden):
        services.customer_update(
            actor=lead_bj, customer_id=customer.pk, version=1, changes={"province": province("sh")}
        )
    moved = services.customer_update(
        actor=admin_actor, customer_id=customer.pk, version=1, changes={"province": province("sh")}
    )
    assert moved.province.slug == "sh"
    event = AuditEvent.objects.get(verb="customer.updated")
    assert event.data["changes"] == {"province": ["110000", "310000"]} and event.province_code == "310000"


def test_contact_add_with_phones_and_one_primary(lead_bj):
    customer = CustomerFactory()
    first = services.contact_add(
        actor=lead_bj,
        customer_id=customer.pk,
        name="张伟",
        is_primary=True,
        phones=["+86 138-0013-8000", "１３８００１３８０００", "010-65528899"],
    )
    assert sorted(first.phones.values_list("number", "kind")) == [
        ("01065528899", "landline"),
        ("13800138000", "mobile"),
    ]
    second = services.contact_add(actor=lead_bj, customer_id=customer.pk, name="李娜", is_primary=True)
    first.refresh_from_db()
    assert not first.is_primary and second.is_primary
    assert AuditEvent.objects.filter(verb="customer.contact_added", target_id=str(customer.pk)).count() == 2


def test_contact_add_with_a_bad_phone_writes_nothing(lead_bj):
    customer = CustomerFactory()
    before = counts()
    with pytest.raises(ValidationFailed) as info:
        services.contact_add(
            actor=lead_bj, customer_id=customer.pk, name="张伟", phones=["13800138000", "垃圾"]
        )
    assert info.value.code == "invalid_phone"
    with pytest.raises(ValidationFailed):
        services.contact_add(actor=lead_bj, customer_id=customer.pk, name="张伟", email="not-an-email")
    assert counts() == before


def test_contact_update_versioned(lead_bj, make_actor):
    other = make_actor("am_bj", "am_bj", Role.ACCOUNT_MANAGER)
    contact = ContactFactory(name="王芳", title="科员")
    services.contact_update(actor=other, contact_id=contact.pk, version=1, changes={"title": "科长"})
    with pytest.raises(Conflict) as info:
        services.contact_update(actor=lead_bj, contact_id=contact.pk, version=1, changes={"name": "王芳芳"})
    assert info.value.details["changed"] == {"title": "科长"}
    updated = services.contact_update(
        actor=lead_bj, contact_id=contact.pk, version=2, changes={"is_primary": True}
    )
    assert updated.version == 3 and updated.is_primary


def test_phone_add_duplicate_in_another_form_is_409(lead_bj):
    contact = ContactFactory(phones=["13800138000"])
    before = counts()
    with pytest.raises(Conflict) as info:
        services.phone_add(actor=lead_bj, contact_id=contact.pk, number="+86 138 0013 8000")
    assert info.value.code == "phone_exists"
    assert counts() == before
    phone = services.phone_add(actor=lead_bj, contact_id=contact.pk, number="(010) 6552-8899")
    assert phone.number == "01065528899" and phone.kind == "landline"


def test_phone_remove(lead_bj, lead_sh):
    contact = ContactFactory(phones=["13800138000"])
    phone = contact.phones.get()
    with pytest.raises(NotFound):
        services.phone_remove(actor=lead_sh, phone_id=phone.pk)
    services.phone_remove(actor=lead_bj, phone_id=phone.pk)
    assert not contact.phones.exists()
    assert AuditEvent.objects.filter(verb="customer.phone_removed").count() == 1


# -- selectors ------------------------------------------------------------------


def test_find_by_phone_any_form_and_scope(agent_bj, agent_sh):
    bj = ContactFactory(customer=CustomerFactory(name="北京客户"), phones=["13800138000"])
    ContactFactory(customer=CustomerFactory(name="上海客户", province=province("sh")), phones=["13800138000"])
    found = selectors.find_by_phone(agent_bj.scope, "+86 138-0013-8000")
    assert [c.pk for c in found] == [bj.pk] and found[0].customer.name == "北京客户"
    assert [c.customer.name for c in selectors.find_by_phone(agent_sh.scope, "１３８００１３８０００")] == [
        "上海客户"
    ]
    with pytest.raises(ValidationFailed):
        selectors.find_by_phone(agent_bj.scope, "not a number")


def test_lookup_by_phone_account_and_name_prefix(agent_bj, hotline_agent):
    a = CustomerFactory(name="北京市第一人民医院", account_number="XST1100001")
    b = CustomerFactory(name="北京市应急管理局", account_number="XST1100002")
    ContactFactory(customer=b, phones=["010-65528899"])
    sh = CustomerFactory(name="北京路小学", account_number="XST3100001", province=province("sh"))
    assert selectors.lookup(agent_bj.scope, "(010) 6552 8899") == [b]
    assert selectors.lookup(agent_bj.scope, "xst1100001") == [a]
    assert {c.pk for c in selectors.lookup(agent_bj.scope, "北京市")} == {a.pk, b.pk}
    assert selectors.lookup(agent_bj.scope, "北京路") == []
    assert selectors.lookup(hotline_agent.scope, "北京路") == [sh]  # the hotline is national
    assert selectors.lookup(agent_bj.scope, "  ") == []


def test_customer_in_scope(agent_bj):
    sh = CustomerFactory(province=province("sh"))
    with pytest.raises(NotFound):
        selectors.customer_in_scope(agent_bj.scope, sh.pk)
    assert selectors.find_by_account(agent_bj.scope, sh.account_number) is None


def test_inactive_customers_are_still_found_by_phone(agent_bj):
    contact = ContactFactory(customer=CustomerFactory(is_active=False), phones=["13800138000"])
    assert selectors.find_by_phone(agent_bj.scope, "13800138000") == [contact]
