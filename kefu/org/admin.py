from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from kefu.core.admin import AuditedAdmin
from kefu.core.web import actor_of

from . import services
from .models import ApiToken, Membership, Province, Team, Unit, User


@admin.register(Province)
class ProvinceAdmin(AuditedAdmin):
    list_display = ("report_order", "name", "code", "slug", "full_name")
    ordering = ("report_order",)


@admin.register(Unit)
class UnitAdmin(AuditedAdmin):
    list_display = ("name", "code", "kind", "province")
    list_filter = ("kind",)


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ("name", "code", "kind", "unit", "province", "email")
    list_filter = ("kind", "province")
    search_fields = ("name", "code")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("team",)


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):  # memberships (inline) audited too
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), (_("客服资料"), {"fields": ("display_name", "phone")}))
    list_display = ("username", "display_name", "email", "is_active", "is_staff")
    inlines = [MembershipInline]

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        deactivated = change and "is_active" in form.changed_data and not obj.is_active
        super().save_model(request, obj, form, change)
        if deactivated:
            services.user_access_ended_in_admin(by=actor_of(request).user, user=obj, verb="user.deactivated")

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:  # the form was valid and saved
            user = User.objects.get(pk=id)
            services.user_access_ended_in_admin(
                by=actor_of(request).user, user=user, verb="user.password_changed"
            )
        return response


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
    list_display = ("name", "prefix", "user", "team", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    list_filter = ("revoked_at",)
