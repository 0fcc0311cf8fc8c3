"""Accounts and API tokens: login, tokens hashed and narrowed to a team, revocation, ending sessions."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from conftest import make_user
from kefu.core.models import AuditEvent
from kefu.org import services
from kefu.org.access import actor_for
from kefu.org.models import ApiToken, LoginThrottle, Membership, Role, Team

pytestmark = pytest.mark.django_db


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def issue(actor, team_code: str, name: str = "对接系统"):
    return services.token_issue(actor=actor, team=Team.objects.get(code=team_code), name=name)


# -- login -------------------------------------------------------------------


def test_login_page_is_chinese_by_default(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "登录新视通客服平台" in response.content.decode()
    assert response["Content-Language"] == "zh-hans"


def test_login_with_the_right_password_lands_on_home(client, agent_bj):
    response = client.post("/accounts/login/", {"username": "agent_bj", "password": "correct-horse-42"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert AuditEvent.objects.filter(verb="user.logged_in", target_id=str(agent_bj.user.pk)).count() == 1


def test_login_with_a_wrong_password_is_refused_in_chinese(client, agent_bj):
    response = client.post("/accounts/login/", {"username": "agent_bj", "password": "wrong"})
    assert response.status_code == 401
    assert "用户名或密码错误。" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_next_must_stay_on_this_site(client, agent_bj):
    response = client.post(
        "/accounts/login/?next=https://evil.example/",
        {"username": "agent_bj", "password": "correct-horse-42"},
    )
    assert response["Location"] == "/"


def test_login_throttle_counts_per_username(client, agent_bj, settings):
    settings.KEFU_LOGIN_MAX_FAILURES = 3
    statuses = [
        client.post("/accounts/login/", {"username": "agent_bj", "password": "bad"}).status_code
        for _ in range(5)
    ]
    assert statuses == [401, 401, 401, 429, 429]
    # Even the right password is refused until the window passes.
    right = client.post("/accounts/login/", {"username": "agent_bj", "password": "correct-horse-42"})
    assert right.status_code == 429
    assert "登录失败次数过多" in right.content.decode()
    assert LoginThrottle.objects.get(key="user:agent_bj").failures == 3


def test_login_throttle_counts_per_address_across_usernames(client, agent_bj, settings):
    settings.KEFU_LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    statuses = [
        client.post("/accounts/login/", {"username": f"guess{i}", "password": "bad"}).status_code
        for i in range(4)
    ]
    assert statuses == [401, 401, 401, 429]


def test_successful_logins_do_not_use_up_the_address_allowance(client, agent_bj, settings):
    """Colleagues behind one office address sign in all morning; only failures count."""
    settings.KEFU_LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    for _ in range(10):
        ok = client.post("/accounts/login/", {"username": "agent_bj", "password": "correct-horse-42"})
        assert ok.status_code == 302
        client.logout()
    assert LoginThrottle.objects.get(key="ip:127.0.0.1").failures == 0
    statuses = [
        client.post("/accounts/login/", {"username": "nobody", "password": "bad"}).status_code
        for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]


def test_login_throttle_window_expires(client, agent_bj, settings):
    settings.KEFU_LOGIN_MAX_FAILURES = 1
    client.post("/accounts/login/", {"username": "agent_bj", "password": "bad"})
    assert client.post("/accounts/login/", {"username": "agent_bj", "password": "bad"}).status_code == 429
    past = timezone.now() - timezone.timedelta(seconds=settings.KEFU_LOGIN_WINDOW_SECONDS + 1)
    LoginThrottle.objects.update(window_start=past)
    ok = client.post("/accounts/login/", {"username": "agent_bj", "password": "correct-horse-42"})
    assert ok.status_code == 302


def test_logout_needs_post_and_ends_the_session(client, agent_bj):
    client.force_login(agent_bj.user)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


# -- tokens ------------------------------------------------------------------


def test_token_is_stored_only_as_a_hash(agent_bj):
    token, secret = issue(agent_bj, "desk_bj")
    row = ApiToken.objects.get(pk=token.pk)
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = json.dumps(list(ApiToken.objects.values().filter(pk=token.pk)), default=str)
    assert secret not in stored and secret.split("_", 2)[2] not in stored
    assert secret.startswith(f"kefu_{row.prefix}_")


def test_every_issued_token_authenticates(agent_bj):
    # The random part may contain "_": twenty tokens make a wrong split all but certain to show.
    client = Client()
    for i in range(20):
        _token, secret = issue(agent_bj, "desk_bj", name=f"t{i}")
        me = client.get("/api/me", **bearer(secret))
        assert me.status_code == 200 and me.json()["username"] == agent_bj.user.username, secret


def test_token_actor_has_only_the_token_team_seats(make_actor):
    actor = make_actor("two_hats", "desk_bj", Role.SUPERVISOR)
    Membership.objects.create(user=actor.user, team=Team.objects.get(code="hotline"), role=Role.AGENT)
    assert actor_for(actor.user).scope.national  # the session sees the hotline's national scope
    _token, secret = issue(actor_for(actor.user), "desk_bj")
    me = Client().get("/api/me", **bearer(secret)).json()
    assert [s["team_code"] for s in me["seats"]] == ["desk_bj"]
    assert me["national"] is False and me["province_codes"] == ["110000"]
    assert "ticket.supervise" in me["permissions"]


def test_token_cannot_be_issued_for_a_team_the_user_is_not_in(agent_bj):
    with pytest.raises(Exception) as exc:
        issue(agent_bj, "desk_sh")
    assert getattr(exc.value, "status", None) == 404
    assert ApiToken.objects.count() == 0


def test_token_last_used_at_is_recorded(agent_bj):
    token, secret = issue(agent_bj, "desk_bj")
    assert token.last_used_at is None
    Client().get("/api/me", **bearer(secret))
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_revoked_token_is_refused(agent_bj):
    token, secret = issue(agent_bj, "desk_bj")
    client = Client()
    response = client.delete(f"/api/tokens/{token.pk}", **bearer(secret))
    assert response.status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None
    refused = client.get("/api/me", **bearer(secret))
    assert refused.status_code == 401
    assert refused.json()["code"] == "unauthenticated"
    assert AuditEvent.objects.filter(verb="token.revoked", target_id=str(token.pk)).count() == 1


def test_wrong_or_malformed_token_is_refused(agent_bj):
    _token, secret = issue(agent_bj, "desk_bj")
    client = Client()
    for bad in (secret[:-1] + ("A" if secret[-1] != "A" else "B"), "kefu_deadbeef_x", "nonsense", "kefu__"):
        assert client.get("/api/me", **bearer(bad)).status_code == 401, bad


def test_tokens_page_issues_and_revokes(client, agent_bj):
    client.force_login(agent_bj.user)
    page = client.post("/accounts/tokens/", {"name": "工单对接", "team_code": "desk_bj"})
    assert page.status_code == 200
    token = ApiToken.objects.get()
    assert "kefu_" + token.prefix in page.content.decode()  # the secret is shown once
    assert "kefu_" + token.prefix not in client.get("/accounts/tokens/").content.decode()
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


# -- password change and deactivation end sessions and tokens ----------------------


def _sessions_of(user) -> int:
    return sum(1 for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk))


def test_password_change_ends_every_session_and_token(agent_bj):
    laptop, phone = Client(), Client()
    for c in (laptop, phone):
        assert (
            c.post("/accounts/login/", {"username": "agent_bj", "password": "correct-horse-42"}).status_code
            == 302
        )
    _token, secret = issue(agent_bj, "desk_bj")
    assert _sessions_of(agent_bj.user) == 2

    response = laptop.post(
        "/accounts/password/",
        {
            "old_password": "correct-horse-42",
            "new_password": "Zhongguo-kefu-2026",
            "new_password2": "Zhongguo-kefu-2026",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert _sessions_of(agent_bj.user) == 0
    assert phone.get("/").status_code == 302
    assert Client().get("/api/me", **bearer(secret)).status_code == 401
    assert Client().login(username="agent_bj", password="Zhongguo-kefu-2026")


def test_password_change_with_a_wrong_old_password_changes_nothing(client, agent_bj):
    client.force_login(agent_bj.user)
    response = client.post(
        "/accounts/password/",
        {"old_password": "nope", "new_password": "Zhongguo-kefu-2026", "new_password2": "Zhongguo-kefu-2026"},
    )
    assert response.status_code == 400 and "原密码不正确" in response.content.decode()
    agent_bj.user.refresh_from_db()
    assert agent_bj.user.check_password("correct-horse-42")
    home = client.get("/")  # still signed in: a refused change ends no session
    assert home.status_code == 200 and agent_bj.user.username in home.content.decode()


def test_weak_new_password_is_refused(client, agent_bj):
    client.force_login(agent_bj.user)
    response = client.post(
        "/accounts/password/",
        {"old_password": "correct-horse-42", "new_password": "12345678", "new_password2": "12345678"},
    )
    assert response.status_code == 422
    assert "新密码不符合要求" in response.content.decode()
    agent_bj.user.refresh_from_db()
    assert agent_bj.user.check_password("correct-horse-42")


def test_deactivation_ends_sessions_and_tokens(agent_bj, admin_actor):
    browser = Client()
    browser.force_login(agent_bj.user)
    _token, secret = issue(agent_bj, "desk_bj")
    services.user_deactivate(actor=admin_actor, user=agent_bj.user)
    assert browser.get("/").status_code == 302
    assert Client().get("/api/me", **bearer(secret)).status_code == 401
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 0
    assert AuditEvent.objects.filter(verb="user.deactivated").count() == 1


def test_deactivation_needs_an_administrator(agent_bj, agent_sh):
    with pytest.raises(Exception) as exc:
        services.user_deactivate(actor=agent_sh, user=agent_bj.user)
    assert getattr(exc.value, "status", None) == 403
    agent_bj.user.refresh_from_db()
    assert agent_bj.user.is_active


def test_inactive_user_cannot_log_in(client):
    user = make_user("gone", "desk_bj", Role.AGENT)
    user.is_active = False
    user.save()
    assert (
        client.post("/accounts/login/", {"username": "gone", "password": "correct-horse-42"}).status_code
        == 401
    )


# -- CSRF --------------------------------------------------------------------


def test_session_api_writes_need_the_csrf_token(agent_bj):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent_bj.user)
    body = json.dumps({"name": "x", "team_code": "desk_bj"})
    refused = client.post("/api/tokens", body, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert ApiToken.objects.count() == 0
    # Reads need no token; a page gives the token, and the write then passes.
    assert client.get("/api/tokens").json() == []
    client.get("/accounts/tokens/")
    csrf = client.cookies["csrftoken"].value
    ok = client.post("/api/tokens", body, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert ok.status_code == 201
    assert ApiToken.objects.count() == 1


def test_bearer_api_writes_need_no_csrf_token(agent_bj):
    _token, secret = issue(agent_bj, "desk_bj")
    client = Client(enforce_csrf_checks=True)
    body = json.dumps({"name": "机器", "team_code": "desk_bj"})
    assert (
        client.post("/api/tokens", body, content_type="application/json", **bearer(secret)).status_code == 201
    )


def test_web_forms_need_the_csrf_token(agent_bj):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent_bj.user)
    assert client.post("/accounts/tokens/", {"name": "x", "team_code": "desk_bj"}).status_code == 403
    assert ApiToken.objects.count() == 0


def test_throttle_counts_the_socket_address_unless_told_to_trust_the_proxy(client, agent_bj, settings):
    settings.KEFU_LOGIN_MAX_FAILURES_PER_ADDRESS = 1
    spoof = {"HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    client.post("/accounts/login/", {"username": "a1", "password": "bad"}, **spoof)
    # A forged header does not give a fresh address: still the socket's, still throttled.
    assert (
        client.post(
            "/accounts/login/", {"username": "a2", "password": "bad"}, HTTP_X_FORWARDED_FOR="198.51.100.2"
        ).status_code
        == 429
    )
    settings.KEFU_TRUST_X_FORWARDED_FOR = True
    # Behind the proxy, the last address (the one the proxy appended) counts; the client's prefix is ignored.
    assert (
        client.post(
            "/accounts/login/",
            {"username": "a3", "password": "bad"},
            HTTP_X_FORWARDED_FOR="10.0.0.1, 203.0.113.9",
        ).status_code
        == 401
    )
    assert (
        client.post(
            "/accounts/login/",
            {"username": "a4", "password": "bad"},
            HTTP_X_FORWARDED_FOR="10.0.0.2, 203.0.113.9",
        ).status_code
        == 429
    )
    assert LoginThrottle.objects.get(key="ip:203.0.113.9").failures == 1


def test_deactivating_in_admin_ends_sessions_and_tokens(agent_bj, admin_actor):
    browser = Client()
    browser.force_login(agent_bj.user)
    _token, secret = issue(agent_bj, "desk_bj")
    admin = Client()
    admin.force_login(admin_actor.user)
    form = admin.get(f"/admin/org/user/{agent_bj.user.pk}/change/").context["adminform"].form
    data = {
        k: v
        for k, v in form.initial.items()
        if v is not None and k not in ("groups", "user_permissions", "last_login", "password")
    }
    data.update(
        {
            "is_active": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        }
    )
    data = {k: v for k, v in data.items() if k != "date_joined"}
    data.pop("is_active")
    response = admin.post(f"/admin/org/user/{agent_bj.user.pk}/change/", data)
    assert response.status_code == 302, (
        response.context["adminform"].form.errors if response.context else response
    )
    agent_bj.user.refresh_from_db()
    assert not agent_bj.user.is_active
    assert ApiToken.objects.get().revoked_at is not None
    assert _sessions_of(agent_bj.user) == 0
    assert AuditEvent.objects.filter(verb="user.deactivated", data={"via": "admin"}).count() == 1
    # Reactivating does not bring the old token back.
    agent_bj.user.is_active = True
    agent_bj.user.save()
    assert Client().get("/api/me", **bearer(secret)).status_code == 401


def test_admin_password_reset_revokes_tokens(agent_bj, admin_actor):
    _token, secret = issue(agent_bj, "desk_bj")
    admin = Client()
    admin.force_login(admin_actor.user)
    response = admin.post(
        f"/admin/org/user/{agent_bj.user.pk}/password/",
        {"password1": "Zhongguo-kefu-2026", "password2": "Zhongguo-kefu-2026", "usable_password": "true"},
    )
    assert response.status_code == 302
    assert Client().get("/api/me", **bearer(secret)).status_code == 401
    assert AuditEvent.objects.filter(verb="user.password_changed", data={"via": "admin"}).count() == 1
