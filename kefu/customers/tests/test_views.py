"""The Chinese web UI: list and search, customer page, forms, and the lookup fragment for the order form."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kefu.core.models import AuditEvent
from kefu.customers.models import Contact, ContactPhone, Customer
from kefu.customers.tests.factories import ContactFactory, CustomerFactory, province
from kefu.org.models import Province, Role

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def lead_bj(make_actor):
    return make_actor("lead_bj", "desk_bj", Role.SUPERVISOR)


def snapshot():
    why = "test bookkeeping"
    return (
        list(Customer.objects.unscoped(why).values_list()),
        list(Contact.objects.unscoped(why).values_list()),
        list(ContactPhone.objects.unscoped(why).values_list()),
        AuditEvent.objects.count(),
    )


def test_list_page_search_and_fragment(client, agent_bj):
    CustomerFactory(name="北京市应急管理局")
    CustomerFactory(name="北京协和测试医院")
    client.force_login(agent_bj.user)
    page = client.get(reverse("customers:list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "政企客户" in html and "北京市应急管理局" in html and "<html" in html
    assert "<script>" not in html and " onclick=" not in html  # no inline script (CSP)
    fragment = client.get(reverse("customers:list"), {"q": "应急"}, **HX).content.decode()
    assert "北京市应急管理局" in fragment and "北京协和测试医院" not in fragment and "<html" not in fragment


def test_nav_entry_is_registered(client, agent_bj):
    client.force_login(agent_bj.user)
    html = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("customers:list")}"' in html


def test_customer_page_shows_contacts_and_phones(client, agent_bj):
    customer = CustomerFactory(name="北京市第一中学")
    ContactFactory(customer=customer, name="赵静", is_primary=True, phones=["13800138000", "010-65528899"])
    client.force_login(agent_bj.user)
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "北京市第一中学" in html and "赵静" in html and "主联系人" in html
    assert "138 0013 8000" in html and "010-65528899" in html


def test_lookup_fragment_finds_the_caller(client, agent_bj):
    customer = CustomerFactory(name="北京市应急管理局")
    contact = ContactFactory(customer=customer, name="张伟", phones=["13800138000"])
    client.force_login(agent_bj.user)
    html = client.get(reverse("customers:lookup"), {"phone": "+86 138-0013-8000"}, **HX).content.decode()
    assert "北京市应急管理局" in html and "张伟" in html
    assert f'name="customer" value="{customer.pk}"' in html and f'name="contact" value="{contact.pk}"' in html
    assert "<html" not in html


def test_lookup_fragment_tolerates_partial_input(client, agent_bj):
    customer = CustomerFactory(name="北京市应急管理局")
    ContactFactory(customer=customer, name="张伟", phones=["13800138000"])
    client.force_login(agent_bj.user)
    # Typing is not an error: an incomplete number answers the fragment with no match yet, or the
    # prompt when nothing is typed, never an error page.
    for q, shows in [
        ("13800138000", "北京市应急管理局"),  # the whole number finds the customer
        ("138", "未找到匹配的客户。"),
        ("138-00", "未找到匹配的客户。"),
        ("garbage", "未找到匹配的客户。"),
        ("", "输入来电号码、客户账号或客户名称。"),
    ]:
        response = client.get(reverse("customers:lookup"), {"phone": q}, **HX)
        html = response.content.decode()
        assert response.status_code == 200 and shows in html, q
        assert "<html" not in html and "error-box" not in html, q


def test_create_form(client, lead_bj):
    client.force_login(lead_bj.user)
    form = client.get(reverse("customers:create")).content.decode()
    assert "新建客户" in form and 'name="account_number"' in form
    # A provincial lead creates in their own province only: the one choice offered is Beijing.
    assert form.count('<option value="' + str(Province.objects.get(slug="bj").pk) + '"') == 1
    assert ">上海<" not in form
    response = client.post(
        reverse("customers:create"),
        {
            "name": "北京市水务局",
            "account_number": "XST1100077",
            "province": province("bj").pk,
            "industry": "government",
            "is_active": "on",
        },
    )
    customer = Customer.objects.unscoped("test").get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "customers:detail", args=[customer.pk]
    )
    assert customer.name == "北京市水务局" and customer.is_active


def test_create_form_bad_input_rerenders_and_writes_nothing(client, lead_bj):
    client.force_login(lead_bj.user)
    before = snapshot()
    response = client.post(
        reverse("customers:create"),
        {"name": "", "account_number": "XST1100077", "province": province("bj").pk},
    )
    assert response.status_code == 422 and "名称不能为空" in response.content.decode()
    response = client.post(
        reverse("customers:create"), {"name": "x", "account_number": "XST1100077", "province": "abc"}
    )
    assert response.status_code == 422
    response = client.post(
        reverse("customers:create"),
        {"name": "上海客户", "account_number": "XST3100077", "province": province("sh").pk},
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_agent_cannot_open_forms(client, agent_bj):
    customer = CustomerFactory()
    client.force_login(agent_bj.user)
    assert client.get(reverse("customers:create")).status_code == 403
    assert client.post(reverse("customers:contact_add", args=[customer.pk]), {"name": "x"}).status_code == 403


def test_edit_form_with_stale_version(client, lead_bj, make_actor):
    from kefu.customers import services

    customer = CustomerFactory(name="原名")
    client.force_login(lead_bj.user)
    form = client.get(reverse("customers:edit", args=[customer.pk])).content.decode()
    assert 'name="version" value="1"' in form
    services.customer_update(
        actor=make_actor("lead_bj2", "desk_bj", Role.SUPERVISOR),
        customer_id=customer.pk,
        version=1,
        changes={"name": "他人改名"},
    )
    response = client.post(
        reverse("customers:edit", args=[customer.pk]),
        {
            "version": "1",
            "name": "我的改名",
            "account_number": customer.account_number,
            "province": province("bj").pk,
        },
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "资料已被他人修改" in html and "他人改名" in html
    assert Customer.objects.unscoped("test").get().name == "他人改名"


def test_contact_and_phone_forms(client, lead_bj):
    customer = CustomerFactory()
    client.force_login(lead_bj.user)
    response = client.post(
        reverse("customers:contact_add", args=[customer.pk]),
        {"name": "孙丽", "phones": "13800138000，010-65528899", "is_primary": "on"},
    )
    assert response.status_code == 302
    contact = Contact.objects.unscoped("test").get()
    assert sorted(contact.phones.values_list("number", flat=True)) == ["01065528899", "13800138000"]
    response = client.post(reverse("customers:phone_add", args=[contact.pk]), {"number": "abc"})
    assert response.status_code == 422
    response = client.post(reverse("customers:phone_add", args=[contact.pk]), {"number": "0571-88888888"})
    assert response.status_code == 302 and contact.phones.count() == 3


def test_agents_see_no_edit_controls(client, agent_bj, lead_bj):
    customer = CustomerFactory()
    ContactFactory(customer=customer)
    client.force_login(agent_bj.user)
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert reverse("customers:edit", args=[customer.pk]) not in html and "新增联系人" not in html
    assert reverse("customers:create") not in client.get(reverse("customers:list")).content.decode()
    client.force_login(lead_bj.user)
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert reverse("customers:edit", args=[customer.pk]) in html and "新增联系人" in html


def test_pages_and_api_do_a_fixed_number_of_queries_whatever_the_rows(client, lead_bj, make_actor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    am = make_actor("am_bj_q", "am_bj", Role.ACCOUNT_MANAGER).user
    customer = CustomerFactory(name="北京计数客户", account_manager=am)
    client.force_login(lead_bj.user)
    counts = []
    for n in (3, 8):  # past the three best lookup matches that show their open orders
        for i in range(n):
            CustomerFactory(name=f"北京计数客户{n}{i:02d}", account_manager=am)
            ContactFactory(customer=customer, phones=[f"1391{n}{i:06d}", f"010-6{n}{i:06d}"])
        client.get(reverse("customers:list"))  # warm per-process caches
        measured = []
        for url, params in [
            (reverse("customers:list"), {}),
            (reverse("customers:detail", args=[customer.pk]), {}),
            ("/api/customers", {}),
            (f"/api/customers/{customer.pk}", {}),
            (f"/api/customers/{customer.pk}/contacts", {}),
            ("/api/customers/lookup", {"q": "北京计数客户"}),
            (reverse("customers:lookup"), {"q": "北京计数客户"}),
        ]:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url, params).status_code == 200, url
            measured.append(len(ctx))
        counts.append(measured)
    assert counts[0] == counts[1], counts
