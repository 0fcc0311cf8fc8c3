"""The web shell: landing pages per role, language switch, Beijing time, navigation, admin."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import NoReverseMatch, reverse

from kefu.core.registry import HOME_PANELS, NAV
from kefu.org import services
from kefu.org.models import ApiToken, Team

pytestmark = pytest.mark.django_db


def home_of(actor) -> str:
    client = Client()
    client.force_login(actor.user)
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def panels_on(html: str) -> list[str]:
    return re.findall(r'<section class="panel[^"]*"[^>]*>\s*<h2>([^<]+)</h2>', html)


def log_in(username: str) -> str:
    """Through the login form, as a person would; returns the page it lands on."""
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": username, "password": "correct-horse-42"}, follow=True
    )
    assert response.status_code == 200 and response.redirect_chain == [("/", 302)]
    return response.content.decode()


def test_beijing_agent_and_hq_reviewer_land_on_different_pages(agent_bj, hq_reviewer):
    agent_page, reviewer_page = log_in("agent_bj"), log_in("hq_reviewer")
    assert "北京" in agent_page and 'data-role="agent"' in agent_page
    assert "数据范围：本省" in agent_page
    assert 'data-permission="ticket.create"' in agent_page
    assert 'data-permission="kb.publish"' not in agent_page

    assert "集团客户服务部" in reviewer_page and 'data-role="kb_publisher"' in reviewer_page
    assert "数据范围：全国各省" in reviewer_page
    assert 'data-permission="kb.publish"' in reviewer_page
    assert 'data-permission="ticket.create"' not in reviewer_page
    assert panels_on(agent_page) != panels_on(reviewer_page)


def test_every_role_sees_at_least_its_teams_panel(agent_bj, hq_reviewer, hq_analyst, am_gd, hotline_agent):
    for actor in (agent_bj, hq_reviewer, hq_analyst, am_gd, hotline_agent):
        assert "我的团队与职责" in home_of(actor), actor.user.username


def test_signed_out_home_goes_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_every_home_panel_renders_for_every_demo_role(make_actor):
    # Any panel that crashes would take every landing page down.
    for i, (team, role) in enumerate(
        [
            ("desk_bj", "agent"),
            ("desk_bj", "supervisor"),
            ("am_gd", "account_manager"),
            ("knowledge", "kb_author"),
            ("hq_business", "kb_confirmer"),
            ("hq_service", "kb_publisher"),
            ("hq_service", "analyst"),
            ("hq_service", "admin"),
            ("hotline", "agent"),
        ]
    ):
        assert "我的团队与职责" in home_of(make_actor(f"role{i}", team, role))
    assert HOME_PANELS


# -- navigation --------------------------------------------------------------


def test_every_navigation_entry_reverses():
    broken = []
    for item in NAV:
        try:
            reverse(item.url_name)
        except NoReverseMatch:
            broken.append(item.url_name)
    assert not broken, f"navigation entries without a URL: {broken}"


def test_navigation_follows_permissions(agent_bj, hq_analyst):
    assert 'href="/accounts/tokens/"' in home_of(agent_bj)
    assert "后台配置" not in home_of(agent_bj)


# -- language ----------------------------------------------------------------


def test_language_switch_to_english_and_back(client, agent_bj):
    client.force_login(agent_bj.user)
    assert "我的工作台" in client.get("/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/tokens/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/tokens/"
    assert response.cookies["django_language"].value == "en"
    page = client.get("/").content.decode()
    assert "My workbench" in page and '<html lang="en">' in page
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "我的工作台" in client.get("/").content.decode()


def test_language_switch_works_on_the_login_page(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert "Sign in to Xinshitong customer service" in client.get("/accounts/login/").content.decode()


def test_language_switch_refuses_foreign_next_and_unknown_languages(client):
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert response.cookies["django_language"].value == "zh-hans"
    assert client.get("/i18n/setlang/").status_code == 405


def test_browser_language_does_not_override_chinese_default(client):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "登录新视通客服平台" in page


# -- time --------------------------------------------------------------------


def test_times_are_shown_in_beijing_time(client, agent_bj):
    token, _secret = services.token_issue(actor=agent_bj, team=Team.objects.get(code="desk_bj"), name="t")
    ApiToken.objects.filter(pk=token.pk).update(created_at=datetime(2026, 1, 1, 16, 30, tzinfo=UTC))
    client.force_login(agent_bj.user)
    page = client.get("/accounts/tokens/").content.decode()
    assert "2026-01-02 00:30" in page and "2026-01-01 16:30" not in page
    assert "北京时间" in page


# -- admin -------------------------------------------------------------------


def test_admin_is_usable_by_an_administrator(admin_actor):
    client = Client()
    client.force_login(admin_actor.user)
    assert client.get("/admin/").status_code == 200
    failures = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        status = client.get(url).status_code
        if status != 200:
            failures.append((url, status))
        if model_admin.has_add_permission(type("R", (), {"user": admin_actor.user})()):
            add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
            status = client.get(add).status_code
            if status != 200:
                failures.append((add, status))
    assert not failures, failures


def test_admin_link_only_for_administrators(admin_actor, agent_bj):
    assert "后台配置" in home_of(admin_actor)
    assert "后台配置" not in home_of(agent_bj)


# -- error pages -------------------------------------------------------------


def test_unknown_page_is_the_chinese_not_found_page(client, agent_bj):
    client.force_login(agent_bj.user)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "未找到，或不在您的权限范围内。" in response.content.decode()


def test_csrf_failure_is_a_chinese_page(agent_bj):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent_bj.user)
    response = client.post("/accounts/tokens/", {"name": "x", "team_code": "desk_bj"})
    assert response.status_code == 403
    assert (
        "页面已过期" in response.content.decode() and 'data-code="csrf_failed"' in response.content.decode()
    )


def test_server_error_page_renders_without_context():
    from django.test import RequestFactory

    from kefu.core.views import server_error

    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500 and "服务器内部错误" in response.content.decode()


def test_admin_is_branded_in_chinese(admin_actor):
    client = Client()
    client.force_login(admin_actor.user)
    assert "新视通客服平台 · 后台配置" in client.get("/admin/").content.decode()
