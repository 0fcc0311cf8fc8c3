import pytest

from kefu.core.links import absolute_url


def test_a_site_path_gets_the_public_address(settings):
    settings.KEFU_PUBLIC_URL = "https://kefu.example.cn/"
    assert absolute_url("/tickets/T20261203000001/") == "https://kefu.example.cn/tickets/T20261203000001/"


def test_the_default_is_the_development_server(settings):
    from config import settings as project_settings

    assert project_settings.KEFU_PUBLIC_URL.startswith("http")
    settings.KEFU_PUBLIC_URL = "http://127.0.0.1:8000"
    assert absolute_url("/kb/receipts/") == "http://127.0.0.1:8000/kb/receipts/"


@pytest.mark.parametrize("bad", ["tickets/1/", "//evil.example/x", "https://kefu.example.cn/x", ""])
def test_anything_but_a_site_path_is_refused(bad):
    with pytest.raises(ValueError):
        absolute_url(bad)
