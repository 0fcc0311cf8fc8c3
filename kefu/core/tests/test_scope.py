import pytest

from kefu.core.scope import Scope, ScopeMissing


def test_scope_values():
    assert Scope.everything().covers(7) and Scope.everything().covers(None)
    assert Scope.provinces([1, 2]).covers(2) and not Scope.provinces([1, 2]).covers(3)
    assert not Scope.provinces([1]).covers(None)
    assert Scope.nothing().is_empty and not Scope.nothing().covers(1)


@pytest.mark.django_db
def test_scope_missing_names_the_model_and_the_way_out():
    with pytest.raises(ScopeMissing) as caught:
        list(ProvinceScopedQuerySet(model=Team))
    assert "Team is province-owned" in str(caught.value)
    assert ".scoped(scope)" in str(caught.value) and ".unscoped(reason)" in str(caught.value)


# -- the queryset fails closed (exercised on org.Team, which has a nullable province) --------

from django.db.models import Count  # noqa: E402

from kefu.core.scope import ProvinceScopedQuerySet  # noqa: E402
from kefu.org.models import Province, Team  # noqa: E402


def scoped_teams() -> ProvinceScopedQuerySet:
    return ProvinceScopedQuerySet(model=Team)


READS = {
    "iterate": lambda qs: list(qs),
    "count": lambda qs: qs.count(),
    "exists": lambda qs: qs.exists(),
    "first": lambda qs: qs.first(),
    "get": lambda qs: qs.get(code="desk_bj"),
    "aggregate": lambda qs: qs.aggregate(n=Count("id")),
    "iterator": lambda qs: list(qs.iterator()),
    "in_bulk": lambda qs: qs.in_bulk([1]),
    "values": lambda qs: list(qs.values("code")),
    "filtered": lambda qs: list(qs.filter(kind="province_desk")),
    "update": lambda qs: qs.update(email="x@example.com"),
    "delete": lambda qs: qs.filter(pk=0).delete(),
}


@pytest.mark.django_db
@pytest.mark.parametrize("op", list(READS))
def test_reading_without_a_scope_raises(op):
    with pytest.raises(ScopeMissing):
        READS[op](scoped_teams())


@pytest.mark.django_db
def test_scoped_to_provinces_sees_only_them():
    bj, sh = Province.objects.get(slug="bj"), Province.objects.get(slug="sh")
    codes = set(scoped_teams().scoped(Scope.provinces([bj.pk])).values_list("code", flat=True))
    assert codes == {"desk_bj", "am_bj"}
    both = scoped_teams().scoped(Scope.provinces([bj.pk, sh.pk]))
    assert both.count() == 4 and both.filter(code="desk_sh").exists()


@pytest.mark.django_db
def test_national_scope_sees_everything_and_empty_scope_nothing():
    assert scoped_teams().scoped(Scope.everything()).count() == Team.objects.count()
    assert scoped_teams().scoped(Scope.nothing()).count() == 0
    assert list(scoped_teams().scoped(Scope.nothing())) == []


@pytest.mark.django_db
def test_scope_survives_chaining_and_unscoped_needs_a_reason():
    bj = Province.objects.get(slug="bj")
    qs = scoped_teams().scoped(Scope.provinces([bj.pk])).filter(kind="province_desk").order_by("code")
    assert [t.code for t in qs] == ["desk_bj"]
    assert scoped_teams().unscoped("test: every team").count() == Team.objects.count()
    with pytest.raises(ValueError):
        scoped_teams().unscoped("")


# Related managers: tests/test_scope_relations.py walks every relation of every installed model.
