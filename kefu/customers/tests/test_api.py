"""The customers API through the real stack (session auth, error shape, strict input)."""

from __future__ import annotations

import json

import pytest

from kefu.core.errors import not_found_body
from kefu.core.models import AuditEvent
from kefu.customers.models import Contact, ContactPhone, Customer
from kefu.customers.tests.factories import ContactFactory, CustomerFactory, province
from kefu.org.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead_bj(make_actor):
    return make_actor("lead_bj", "desk_bj", Role.SUPERVISOR)


def api(client, actor):
    client.force_login(actor.user)

    def call(method, url, body=None):
        if body is None:
            return client.generic(method, url)
        return client.generic(method, url, json.dumps(body), content_type="application/json")

    return call


def snapshot():
    why = "test bookkeeping"
    return (
        list(Customer.objects.unscoped(why).values_list()),
        list(Contact.objects.unscoped(why).values_list()),
        list(ContactPhone.objects.unscoped(why).values_list()),
        AuditEvent.objects.count(),
    )


def test_list_is_scoped_paged_and_filtered(client, agent_bj):
    for i in range(3):
        CustomerFactory(name=f"北京客户{i}")
    CustomerFactory(name="上海客户", province=province("sh"))
    call = api(client, agent_bj)
    body = call("GET", "/api/customers?page_size=2").json()
    assert body["count"] == 3 and len(body["items"]) == 2 and body["page_size"] == 2
    assert {i["province"]["code"] for i in body["items"]} == {"110000"}
    assert call("GET", "/api/customers?page=2&page_size=2").json()["items"][0]["name"] == "北京客户2"
    assert call("GET", "/api/customers?q=北京客户1").json()["count"] == 1
    # A provincial user naming another province gets nothing, not an error and not the rows.
    assert call("GET", "/api/customers?province=sh").json()["count"] == 0


def test_national_role_filters_by_province(client, hotline_agent):
    CustomerFactory(name="北京客户")
    CustomerFactory(name="上海客户", province=province("sh"))
    call = api(client, hotline_agent)
    assert call("GET", "/api/customers").json()["count"] == 2
    assert [i["name"] for i in call("GET", "/api/customers?province=310000").json()["items"]] == ["上海客户"]
    assert [i["name"] for i in call("GET", "/api/customers?province=sh").json()["items"]] == ["上海客户"]


def test_list_search_by_phone_in_any_form(client, agent_bj):
    ContactFactory(customer=CustomerFactory(name="来电客户"), phones=["13800138000"])
    CustomerFactory(name="其他客户")
    body = api(client, agent_bj)("GET", "/api/customers?q=%2B86%20138-0013-8000").json()
    assert [i["name"] for i in body["items"]] == ["来电客户"]


@pytest.mark.parametrize("query", ["page=0", "page_size=1000", "is_active=perhaps", "bogus=1", "phone=1"])
def test_list_bad_query_is_4xx(client, agent_bj, query):
    response = api(client, agent_bj)("GET", f"/api/customers?{query}")
    assert response.status_code in (400, 422)
    assert set(response.json()) >= {"code", "message", "message_en"}


def test_lookup_by_phone(client, agent_bj):
    contact = ContactFactory(
        customer=CustomerFactory(name="北京市应急管理局"), name="张伟", phones=["010-65528899"]
    )
    call = api(client, agent_bj)
    body = call("GET", "/api/customers/lookup?phone=(010)%206552-8899").json()
    assert len(body) == 1
    assert body[0]["customer"]["name"] == "北京市应急管理局"
    assert body[0]["contact"]["id"] == contact.pk
    assert body[0]["contact"]["phones"] == [
        {
            "id": contact.phones.get().pk,
            "number": "01065528899",
            "display": "010-65528899",
            "kind": "landline",
        }
    ]
    assert call("GET", "/api/customers/lookup?phone=13900000000").json() == []
    bad = call("GET", "/api/customers/lookup?phone=garbage")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_phone"
    assert call("GET", "/api/customers/lookup").status_code == 422
    assert [m["customer"]["name"] for m in call("GET", "/api/customers/lookup?q=北京市").json()] == [
        "北京市应急管理局"
    ]


def test_detail_and_contacts(client, agent_bj):
    customer = CustomerFactory(name="北京客户")
    ContactFactory(customer=customer, name="主联系人", is_primary=True, phones=["13800138000"])
    call = api(client, agent_bj)
    body = call("GET", f"/api/customers/{customer.pk}").json()
    assert body["name"] == "北京客户" and body["version"] == 1
    assert [c["name"] for c in body["contacts"]] == ["主联系人"]
    assert (
        call("GET", f"/api/customers/{customer.pk}/contacts").json()[0]["phones"][0]["number"]
        == "13800138000"
    )


def test_out_of_scope_is_the_missing_404(client, agent_bj):
    sh = CustomerFactory(province=province("sh"))
    call = api(client, agent_bj)
    denied = call("GET", f"/api/customers/{sh.pk}")
    missing = call("GET", "/api/customers/987654321")
    assert denied.status_code == missing.status_code == 404
    assert denied.json() == missing.json() == not_found_body()


def test_create(client, lead_bj, am_gd, make_actor):
    am = make_actor("am_bj", "am_bj", Role.ACCOUNT_MANAGER)
    response = api(client, lead_bj)(
        "POST",
        "/api/customers",
        {
            "name": "北京市教育局",
            "account_number": "xst-11-00009",
            "account_manager": "am_bj",
            "industry": "government",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["account_number"] == "XST-11-00009" and body["province"]["code"] == "110000"
    assert body["account_manager"] == am.user.username and body["contacts"] == []
    assert AuditEvent.objects.filter(verb="customer.created").count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "客户"},
        {"name": "客户", "account_number": "XST-1", "unknown": 1},
        {"name": "客户", "account_number": "XST-0001", "province": "zz"},
        {"name": "客户", "account_number": "XST-0001", "account_manager": "nobody"},
        {"name": "", "account_number": "XST-0001"},
        {"name": "客户", "account_number": "XST 0001"},
        {"name": "客户", "account_number": "XST-0001", "industry": "casino"},
        {"name": "客户", "account_number": "XST-0001", "is_active": "maybe"},
        {"name": ["x"], "account_number": "XST-0001"},
    ],
)
def test_create_bad_input_is_422_and_writes_nothing(client, lead_bj, body):
    before = snapshot()
    response = api(client, lead_bj)("POST", "/api/customers", body)
    assert response.status_code == 422, response.content
    assert set(response.json()) >= {"code", "message", "message_en"}
    assert snapshot() == before


def test_create_malformed_json_is_4xx(client, lead_bj):
    client.force_login(lead_bj.user)
    response = client.post("/api/customers", "{not json", content_type="application/json")
    assert 400 <= response.status_code < 500
    assert not Customer.objects.unscoped("test").exists()


def test_create_permission_and_province(client, agent_bj, lead_bj):
    body = {"name": "北京客户", "account_number": "XST-0001"}
    assert api(client, agent_bj)("POST", "/api/customers", body).status_code == 403
    client.logout()
    response = api(client, lead_bj)("POST", "/api/customers", body | {"province": "sh"})
    assert response.status_code == 403 and response.json()["code"] == "province_out_of_scope"
    assert not Customer.objects.unscoped("test").exists()


def test_national_creator_must_name_a_province(client, admin_actor):
    response = api(client, admin_actor)(
        "POST", "/api/customers", {"name": "客户", "account_number": "XST-0001"}
    )
    assert response.status_code == 422 and response.json()["details"]["fields"][0]["field"] == "province"


def test_update_with_version_and_stale_409(client, lead_bj):
    customer = CustomerFactory(name="旧名")
    call = api(client, lead_bj)
    ok = call("PATCH", f"/api/customers/{customer.pk}", {"version": 1, "name": "新名", "account_manager": ""})
    assert ok.status_code == 200 and ok.json()["version"] == 2 and ok.json()["name"] == "新名"
    before = snapshot()
    stale = call("PATCH", f"/api/customers/{customer.pk}", {"version": 1, "notes": "迟到的修改"})
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_version"
    assert stale.json()["details"]["changed"] == {"name": "新名"}
    assert stale.json()["details"]["current_version"] == 2
    assert snapshot() == before


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x"},  # no version
        {"version": 1, "name": None},
        {"version": 1, "account_number": "!!"},
        {"version": 1, "province": "zz"},
        {"version": 0, "name": "x"},
        {"version": 1, "created_at": "2020-01-01"},
    ],
)
def test_update_bad_input_writes_nothing(client, lead_bj, body):
    customer = CustomerFactory()
    before = snapshot()
    response = api(client, lead_bj)("PATCH", f"/api/customers/{customer.pk}", body)
    assert response.status_code == 422, response.content
    assert snapshot() == before


def test_contacts_and_phones(client, lead_bj):
    customer = CustomerFactory()
    call = api(client, lead_bj)
    created = call(
        "POST",
        f"/api/customers/{customer.pk}/contacts",
        {"name": "刘洋", "title": "信息科科长", "is_primary": True, "phones": ["+86 139 1111 2222"]},
    )
    assert created.status_code == 201
    contact = created.json()
    assert contact["phones"][0]["number"] == "13911112222" and contact["is_primary"]
    patched = call(
        "PATCH", f"/api/customers/contacts/{contact['id']}", {"version": 1, "email": "liu@example.cn"}
    )
    assert patched.status_code == 200 and patched.json()["version"] == 2
    phone = call(
        "POST", f"/api/customers/contacts/{contact['id']}/phones", {"number": "０１０－６５５２８８９９"}
    )
    assert phone.status_code == 201 and phone.json()["number"] == "01065528899"
    dup = call("POST", f"/api/customers/contacts/{contact['id']}/phones", {"number": "010 6552 8899"})
    assert dup.status_code == 409 and dup.json()["code"] == "phone_exists"
    bad = call("POST", f"/api/customers/contacts/{contact['id']}/phones", {"number": "12345"})
    assert bad.status_code == 422
    assert call("DELETE", f"/api/customers/phones/{phone.json()['id']}").status_code == 204
    assert ContactPhone.objects.unscoped("test").count() == 1


def test_contact_bad_input_writes_nothing(client, lead_bj):
    customer = CustomerFactory()
    before = snapshot()
    call = api(client, lead_bj)
    for body in (
        {"name": ""},
        {"name": "x", "phones": ["bad"]},
        {"name": "x", "email": "nope"},
        {"name": "x", "phones": ["13800138000"] * 11},
        {"name": "x", "extra": 1},
    ):
        response = call("POST", f"/api/customers/{customer.pk}/contacts", body)
        assert response.status_code == 422, (body, response.content)
    assert snapshot() == before


def test_signed_out_is_401(client):
    assert client.get("/api/customers").status_code == 401
