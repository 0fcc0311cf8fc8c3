"""kefu.core.rows: a one-row read compiled once answers as the queryset it replaces (#16.5)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kefu.core import rows
from kefu.core.scope import Scope
from kefu.org.models import ApiToken, Team
from kefu.org.services import token_issue


def _fields(obj):
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


@pytest.mark.django_db
def test_the_row_and_its_joined_user_read_as_select_related_reads_them(agent_bj, agent_sh):
    token, _secret = token_issue(actor=agent_bj, team=Team.objects.get(code="desk_bj"), name="rows")
    token_issue(actor=agent_sh, team=Team.objects.get(code="desk_sh"), name="other")
    got = rows.one(
        ApiToken, equal=("prefix",), values=[token.prefix], is_null=("revoked_at",), related=("user",)
    )
    want = ApiToken.objects.select_related("user").get(prefix=token.prefix)
    assert got is not None and _fields(got) == _fields(want)
    assert _fields(got.user) == _fields(want.user) and got.user.username == agent_bj.user.username
    assert got.created_at.tzinfo is not None and not got._state.adding
    # A revoked token, and a prefix nobody has: no row.
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert rows.one(ApiToken, equal=("prefix",), values=[token.prefix], is_null=("revoked_at",)) is None
    assert rows.one(ApiToken, equal=("prefix",), values=["nobody"]) is None


def test_a_nullable_foreign_key_cannot_be_joined():
    from kefu.customers.models import Customer

    with pytest.raises(ValueError, match="account_manager"):
        rows.one(Customer, equal=("id",), values=[1], related=("account_manager",), scope=Scope.everything())


@pytest.mark.django_db
def test_a_province_owned_row_needs_a_scope_and_outside_it_reads_as_missing():
    from kefu.customers.models import Customer
    from kefu.customers.tests.factories import CustomerFactory, province

    bj, sh = province("bj"), province("sh")
    customer = CustomerFactory(province=sh)
    with pytest.raises(TypeError, match="scope"):
        rows.one(Customer, equal=("id",), values=[customer.pk])
    assert rows.one(Customer, equal=("id",), values=[customer.pk], scope=Scope.provinces([bj.pk])) is None
    assert rows.one(Customer, equal=("id",), values=[customer.pk], scope=Scope.nothing()) is None
    got = rows.one(Customer, equal=("id",), values=[customer.pk], scope=Scope.provinces([sh.pk]))
    assert got is not None and got.pk == customer.pk
