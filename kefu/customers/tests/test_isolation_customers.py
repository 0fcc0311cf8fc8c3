"""A Shanghai agent never sees a Beijing customer, by any path, and gets the 404 of a missing id."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from kefu.core.models import AuditEvent
from kefu.customers import selectors, services
from kefu.customers.models import Contact, ContactPhone, Customer
from kefu.customers.tests.factories import ContactFactory, CustomerFactory, province
from kefu.org.models import Role

pytestmark = pytest.mark.django_db
MISSING = 987654321


@pytest.fixture
def beijing():
    customer = CustomerFactory(name="北京市机密测试局", account_number="XST1199999")
    contact = ContactFactory(customer=customer, name="北京联系人", phones=["13800138000"])
    return customer, contact


def snapshot():
    why = "test bookkeeping"
    return (
        list(Customer.objects.unscoped(why).values_list()),
        list(Contact.objects.unscoped(why).values_list()),
        list(ContactPhone.objects.unscoped(why).values_list()),
        AuditEvent.objects.count(),
    )


def test_selectors(agent_sh, beijing):
    customer, _ = beijing
    assert not selectors.customers_in_scope(agent_sh.scope).exists()
    assert selectors.find_by_phone(agent_sh.scope, "13800138000") == []
    assert selectors.find_by_account(agent_sh.scope, "XST1199999") is None
    assert selectors.lookup(agent_sh.scope, "北京市") == []
    assert selectors.customer_list(agent_sh.scope, q="13800138000").count() == 0


def test_web(client, agent_sh, beijing):
    customer, _ = beijing
    client.force_login(agent_sh.user)
    assert "北京市机密测试局" not in client.get(reverse("customers:list")).content.decode()
    assert (
        "北京市机密测试局" not in client.get(reverse("customers:list"), {"q": "13800138000"}).content.decode()
    )
    for q in ("13800138000", "XST1199999", "北京市"):
        assert "北京市机密测试局" not in client.get(reverse("customers:lookup"), {"q": q}).content.decode()
    for name in ("customers:detail",):
        denied_url, missing_url = reverse(name, args=[customer.pk]), reverse(name, args=[MISSING])
        denied, missing = client.get(denied_url), client.get(missing_url)
        assert denied.status_code == missing.status_code == 404
        assert _page(denied, denied_url) == _page(missing, missing_url)


def _page(response, url):
    """The page without what legitimately differs: CSRF tokens and the page's own URL."""
    html = re.sub(r'(csrfmiddlewaretoken" value=")[^"]*', r"\1", response.content.decode())
    html = re.sub(r'("X-CSRFToken": ")[^"]*', r"\1", html)
    return html.replace(url, "{url}")


def test_api(client, agent_sh, beijing):
    customer, contact = beijing
    client.force_login(agent_sh.user)
    assert client.get("/api/customers").json()["count"] == 0
    assert client.get("/api/customers/lookup", {"phone": "13800138000"}).json() == []
    assert client.get("/api/customers/lookup", {"q": "XST1199999"}).json() == []
    for url in (f"/api/customers/{customer.pk}", f"/api/customers/{customer.pk}/contacts"):
        denied, missing = client.get(url), client.get(url.replace(str(customer.pk), str(MISSING)))
        assert denied.status_code == missing.status_code == 404 and denied.json() == missing.json()


def test_denied_writes_change_nothing(client, make_actor, beijing):
    customer, contact = beijing
    lead_sh = make_actor("lead_sh", "desk_sh", Role.SUPERVISOR)  # may edit customers, of Shanghai
    client.force_login(lead_sh.user)
    before = snapshot()
    writes = [
        ("PATCH", f"/api/customers/{customer.pk}", {"version": 1, "name": "越权"}),
        ("POST", f"/api/customers/{customer.pk}/contacts", {"name": "越权"}),
        ("PATCH", f"/api/customers/contacts/{contact.pk}", {"version": 1, "name": "越权"}),
        ("POST", f"/api/customers/contacts/{contact.pk}/phones", {"number": "13900000000"}),
        ("DELETE", f"/api/customers/phones/{contact.phones.get().pk}", None),
    ]
    for method, url, body in writes:
        data = json.dumps(body) if body is not None else ""
        response = client.generic(method, url, data, content_type="application/json")
        assert response.status_code == 404, (method, url, response.content)
    for name, args, body in [
        ("customers:edit", [customer.pk], {"version": "1", "name": "越权"}),
        ("customers:contact_add", [customer.pk], {"name": "越权"}),
        ("customers:phone_add", [contact.pk], {"number": "13900000000"}),
    ]:
        assert client.post(reverse(name, args=args), body).status_code == 404
    with pytest.raises(Exception):  # noqa: B017 - NotFound; the point is that nothing is written
        services.customer_update(actor=lead_sh, customer_id=customer.pk, version=1, changes={"name": "越权"})
    assert snapshot() == before


def test_create_in_another_province_is_refused(client, make_actor):
    lead_sh = make_actor("lead_sh", "desk_sh", Role.SUPERVISOR)
    client.force_login(lead_sh.user)
    response = client.post(
        "/api/customers",
        json.dumps({"name": "越权客户", "account_number": "XST-0001", "province": "bj"}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not Customer.objects.unscoped("test").filter(province=province("bj")).exists()


def test_account_manager_sees_only_own_province(client, am_gd, beijing):
    CustomerFactory(name="广州客户", province=province("gd"))
    client.force_login(am_gd.user)
    assert [i["name"] for i in client.get("/api/customers").json()["items"]] == ["广州客户"]


@pytest.fixture
def am_js_on_hotline():
    """An account manager of Jiangsu who also takes hotline shifts as an agent.

    The hotline seat gives a national *view* scope and ``customer.edit`` comes
    from the Jiangsu seat: editing must stay within Jiangsu.
    """
    from kefu.org.access import actor_for
    from kefu.org.models import Membership, Team, User

    user = User.objects.create_user(
        username="am_js_hotline", password="correct-horse-42", display_name="双岗"
    )
    Membership.objects.create(user=user, team=Team.objects.get(code="am_js"), role=Role.ACCOUNT_MANAGER)
    Membership.objects.create(user=user, team=Team.objects.get(code="hotline"), role=Role.AGENT)
    return actor_for(user)


def test_edit_rights_of_one_seat_do_not_reach_the_provinces_of_another(client, am_js_on_hotline, beijing):
    customer, contact = beijing
    actor = am_js_on_hotline
    assert actor.scope.national  # the hotline seat may look up any caller
    client.force_login(actor.user)
    before = snapshot()
    writes = [
        ("PATCH", f"/api/customers/{customer.pk}", {"version": 1, "name": "越权"}),
        ("POST", f"/api/customers/{customer.pk}/contacts", {"name": "越权"}),
        ("PATCH", f"/api/customers/contacts/{contact.pk}", {"version": 1, "name": "越权"}),
        ("POST", f"/api/customers/contacts/{contact.pk}/phones", {"number": "13900000000"}),
        ("DELETE", f"/api/customers/phones/{contact.phones.get().pk}", None),
        ("POST", "/api/customers", {"name": "越权客户", "account_number": "XST-0002", "province": "bj"}),
    ]
    for method, url, body in writes:
        data = json.dumps(body) if body is not None else ""
        response = client.generic(method, url, data, content_type="application/json")
        assert response.status_code == 403, (method, url, response.content)
        assert response.json()["code"] == "province_out_of_scope"
    for name, args, body in [
        (
            "customers:edit",
            [customer.pk],
            {
                "version": "1",
                "name": "越权",
                "account_number": "XST1199999",
                "province": str(customer.province_id),
            },
        ),
        ("customers:contact_add", [customer.pk], {"name": "越权"}),
        ("customers:phone_add", [contact.pk], {"number": "13900000000"}),
    ]:
        assert client.post(reverse(name, args=args), body).status_code == 403, name
    assert snapshot() == before
    # Viewing stays national; the page offers no edit controls for a customer the actor may not edit.
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "北京市机密测试局" in page
    assert reverse("customers:edit", args=[customer.pk]) not in page
    assert client.get(reverse("customers:edit", args=[customer.pk])).status_code == 403
    # The form offers only the provinces where the actor may edit.
    form = client.get(reverse("customers:create")).content.decode()
    offered = set(re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', form))
    assert "江苏" in offered and "北京" not in offered
    # Without a province, the API creates where the actor may edit: Jiangsu, the only such province.
    created = client.post(
        "/api/customers",
        json.dumps({"name": "江苏新客户", "account_number": "XST-0004"}),
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["province"]["code"] == province("js").code


def test_an_unknown_account_manager_and_another_provinces_look_the_same(client, make_actor):
    lead_sh = make_actor("lead_sh", "desk_sh", Role.SUPERVISOR)
    make_actor("am_bj_x", "am_bj", Role.ACCOUNT_MANAGER)
    client.force_login(lead_sh.user)

    def create(username):
        return client.post(
            "/api/customers",
            json.dumps({"name": "客户", "account_number": "XST-0003", "account_manager": username}),
            content_type="application/json",
        )

    other, unknown = create("am_bj_x"), create("no_such_user")
    assert other.status_code == unknown.status_code == 422
    assert other.json() == unknown.json()
