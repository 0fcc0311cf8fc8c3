import pytest

from kefu.core.scope import Scope, ScopeMissing


def test_scope_values():
    assert Scope.everything().covers(7) and Scope.everything().covers(None)
    assert Scope.provinces([1, 2]).covers(2) and not Scope.provinces([1, 2]).covers(3)
    assert not Scope.provinces([1]).covers(None)
    assert Scope.nothing().is_empty and not Scope.nothing().covers(1)


def test_scope_missing_is_a_runtime_error():
    assert issubclass(ScopeMissing, RuntimeError)
    with pytest.raises(ScopeMissing):
        raise ScopeMissing("x")
