"""The only writers of organisation data: accounts, tokens, login throttling."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from kefu.core import audit, rows
from kefu.core.errors import DomainError, NotFound, ValidationFailed
from kefu.org.codes import OrgCode

from .access import Actor
from .models import ApiToken, LoginThrottle, Team, User

TOKEN_PREFIX = "kefu"


class LoginThrottled(DomainError):
    status = 429
    default_code = OrgCode.LOGIN_THROTTLED


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- login throttling ---------------------------------------------------------


def _throttle_reserve(key: str, now: datetime, limit: int) -> bool:
    """Count one attempt against ``key``; False if the key is over its limit.

    The attempt is counted before the password is checked, under a row lock,
    so 50 parallel wrong guesses cannot all slip in under the limit.
    """
    window = timedelta(seconds=settings.KEFU_LOGIN_WINDOW_SECONDS)
    LoginThrottle.objects.get_or_create(key=key, defaults={"window_start": now, "failures": 0})
    row = LoginThrottle.objects.select_for_update().get(key=key)
    if now - row.window_start > window:
        row.window_start, row.failures = now, 0
    if row.failures >= limit:
        row.save(update_fields=["window_start", "failures"])
        return False
    row.failures += 1
    row.save(update_fields=["window_start", "failures"])
    return True


def login_attempt(*, request: HttpRequest | None, username: str, password: str, client_ip: str) -> User:
    """Authenticate with throttling per username and per address. Raises on failure."""
    now = timezone.now()
    keys = [f"user:{username.strip().lower()[:150]}", f"ip:{client_ip}"]
    limits = [settings.KEFU_LOGIN_MAX_FAILURES, settings.KEFU_LOGIN_MAX_FAILURES_PER_ADDRESS]
    with transaction.atomic():
        allowed = all([_throttle_reserve(k, now, limit) for k, limit in zip(keys, limits, strict=True)])
    if not allowed:
        raise LoginThrottled(
            "登录失败次数过多，请 15 分钟后再试。",
            "Too many failed logins; try again in 15 minutes.",
        )
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise DomainError(
            "用户名或密码错误。", "Wrong username or password.", code=OrgCode.LOGIN_FAILED, status=401
        )
    with transaction.atomic():
        # A success was not a failure: clear the user's counter and give back the
        # address's reservation, so a desk behind one shared address is not locked
        # out by its own colleagues signing in (the address keeps counting guesses).
        LoginThrottle.objects.filter(key=keys[0]).update(failures=0)
        LoginThrottle.objects.filter(key=keys[1], failures__gt=0).update(failures=F("failures") - 1)
        audit.record(actor=user, verb="user.logged_in", target=user, data={"ip": client_ip})
    return user


# -- accounts -----------------------------------------------------------------


def _end_sessions_and_tokens(user: User, now: datetime) -> int:
    ended = 0
    for session in Session.objects.filter(expire_date__gt=now).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    return ended


def user_set_password(*, actor: Actor, user: User, new_password: str) -> None:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    if actor.user.pk != user.pk and not actor.is_admin:
        raise NotFound()
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationFailed(
            "新密码不符合要求：" + "；".join(exc.messages),
            "The new password is not acceptable.",
            fields=[{"field": "new_password", "messages": exc.messages}],
        ) from exc
    now = timezone.now()
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        _end_sessions_and_tokens(user, now)
        audit.record(actor=actor.user, verb="user.password_changed", target=user)


def user_deactivate(*, actor: Actor, user: User) -> None:
    actor.require("admin.site")
    now = timezone.now()
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        _end_sessions_and_tokens(user, now)
        audit.record(actor=actor.user, verb="user.deactivated", target=user)


def user_access_ended_in_admin(*, by: User, user: User, verb: str) -> None:
    """Django admin deactivated the account or set its password: end its sessions and tokens as the
    services above do, so that reactivating it later does not revive them."""
    with transaction.atomic():
        _end_sessions_and_tokens(user, timezone.now())
        audit.record(actor=by, verb=verb, target=user, data={"via": "admin"})


# -- API tokens ---------------------------------------------------------------


def token_issue(*, actor: Actor, team: Team, name: str) -> tuple[ApiToken, str]:
    """Create a token limited to one of the actor's teams; returns the row and the secret (shown once)."""
    actor.require("token.manage")
    if not actor.in_team(team.pk):
        raise NotFound()
    name = name.strip()
    if not name or len(name) > 60:
        raise ValidationFailed(
            "令牌名称必填，且不超过 60 个字符。",
            "A token name of 1 to 60 characters is required.",
            fields=[{"field": "name"}],
        )
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=actor.user, team=team, name=name, prefix=prefix, key_hash=_hash(secret)
        )
        audit.record(
            actor=actor.user, verb="token.issued", target=token, data={"team": team.code, "name": name}
        )
    return token, secret


def token_revoke(*, actor: Actor, token: ApiToken) -> None:
    if token.user_id != actor.user.pk and not actor.is_admin:
        raise NotFound()
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit.record(actor=actor.user, verb="token.revoked", target=token)


def token_authenticate(secret: str) -> ApiToken | None:
    # The random part is URL-safe base64 and may itself contain "_": split twice only.
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    # SQL built once per process (kefu.core.rows): every API request makes this read (#16.5).
    token = rows.one(
        ApiToken, equal=("prefix",), values=[parts[1]], is_null=("revoked_at",), related=("user",)
    )
    if token is None or not secrets.compare_digest(token.key_hash, _hash(secret)) or not token.user.is_active:
        return None
    now = timezone.now()
    # Written at most once a minute per token, to keep reads cheap.
    if token.last_used_at is None or now - token.last_used_at > timedelta(seconds=60):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
