"""Content-Security-Policy without inline script, the usual headers, and templates that need no inline code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SCRIPT = re.compile(r"<script\b(?P<attrs>[^>]*)>(?P<body>.*?)</script\s*>", re.S | re.I)
HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
STYLE_ATTR = re.compile(r"<[^>]*\sstyle\s*=", re.I)
STYLE_TAG = re.compile(r"<style\b", re.I)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


def project_templates() -> list[Path]:
    found = sorted(
        p for p in (ROOT / "kefu").rglob("templates/**/*") if p.is_file() and p.suffix in {".html", ".txt"}
    )
    assert found, "no templates found: the scan would pass vacuously"
    return found


def inline_code_problems(text: str) -> list[str]:
    problems = []
    for m in SCRIPT.finditer(text):
        attrs = m["attrs"].lower()
        if "src=" in attrs:
            if m["body"].strip():
                problems.append("script with src= and a body")
            continue
        if 'type="application/json"' in attrs:  # data, never executed
            continue
        problems.append("inline <script> body")
    if HANDLER.search(text):
        problems.append("on*= event handler attribute")
    if STYLE_ATTR.search(text):
        problems.append("style= attribute")
    if STYLE_TAG.search(text):
        problems.append("<style> block")
    if JS_URL.search(text):
        problems.append("javascript: URL")
    return problems


def test_the_scanner_catches_each_kind_of_inline_code():
    assert inline_code_problems("<script>alert(1)</script>") == ["inline <script> body"]
    assert inline_code_problems('<button onclick="x()">') == ["on*= event handler attribute"]
    assert inline_code_problems('<div style="color:red">') == ["style= attribute"]
    assert inline_code_problems("<style>p{}</style>") == ["<style> block"]
    assert inline_code_problems('<a href="javascript:go()">') == ["javascript: URL"]
    assert inline_code_problems('<script src="/static/a.js" defer></script><div data-style="x">') == []


@pytest.mark.parametrize("path", project_templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_template_has_no_inline_script_or_style(path: Path):
    assert inline_code_problems(path.read_text()) == [], (
        f"{path.relative_to(ROOT)}: move it to kefu/core/static/"
    )


EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def assert_security_headers(response) -> None:
    csp = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for name, value in EXPECTED.items():
        assert response[name] == value, name
    assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/accounts/login/", "/api/me", "/api/docs", "/healthz", "/nowhere"])
def test_security_headers_on_every_kind_of_response(client, url):
    assert_security_headers(client.get(url))


@pytest.mark.django_db
def test_security_headers_on_signed_in_pages_and_guard_refusals(client, agent_bj):
    client.force_login(agent_bj.user)
    assert_security_headers(client.get("/"))
    assert_security_headers(client.get("/api/me?x=%00"))


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_http_only_and_lax(client, agent_bj):
    response = client.post("/accounts/login/", {"username": "agent_bj", "password": "correct-horse-42"})
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


@pytest.mark.django_db
def test_rendered_pages_carry_no_inline_script(client, agent_bj):
    client.force_login(agent_bj.user)
    for url in ("/", "/accounts/tokens/", "/accounts/password/"):
        assert inline_code_problems(client.get(url).content.decode()) == [], url
    client.logout()
    assert inline_code_problems(client.get("/accounts/login/").content.decode()) == []
