from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.errors import DomainError
from kefu.core.web import actor_of, actor_required, client_ip, not_found_page

from . import selectors, services


def login_view(request: HttpRequest) -> HttpResponse:
    nxt = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = "/"
    error = None
    status = 200
    if request.method == "POST":
        try:
            user = services.login_attempt(
                request=request,
                username=request.POST.get("username", ""),
                password=request.POST.get("password", ""),
                client_ip=client_ip(request),
            )
        except DomainError as exc:
            error, status = exc, exc.status
        else:
            login(request, user)
            return redirect(nxt)
    return render(request, "org/login.html", {"error": error, "next": nxt}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("login")


@actor_required()
def password_change(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    error = None
    if request.method == "POST":
        if not request.user.check_password(request.POST.get("old_password", "")):
            error = _("原密码不正确。")
        elif request.POST.get("new_password") != request.POST.get("new_password2"):
            error = _("两次输入的新密码不一致。")
        else:
            services.user_set_password(
                actor=actor, user=actor.user, new_password=request.POST.get("new_password", "")
            )
            messages.success(request, _("密码已修改，请重新登录。所有会话和 API 令牌已失效。"))
            return redirect("login")
    return render(request, "org/password.html", {"error": error}, status=400 if error else 200)


@actor_required("token.manage")
def tokens(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    new_secret = None
    if request.method == "POST":
        team = selectors.team_of_actor(actor, request.POST.get("team_code", ""))
        _token, new_secret = services.token_issue(actor=actor, team=team, name=request.POST.get("name", ""))
    return render(
        request, "org/tokens.html", {"tokens": selectors.tokens_of(actor), "new_secret": new_secret}
    )


@require_POST
@actor_required("token.manage")
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    actor = actor_of(request)
    token = selectors.token_of(actor, token_id)
    if token is None:
        return not_found_page(request)
    services.token_revoke(actor=actor, token=token)
    return redirect("tokens")
