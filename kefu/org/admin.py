from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, Membership, Province, Team, Unit, User


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ("report_order", "name", "code", "slug", "full_name")
    ordering = ("report_order",)


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "province")
    list_filter = ("kind",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "unit", "province", "email")
    list_filter = ("kind", "province")
    search_fields = ("name", "code")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("team",)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, (_("客服资料"), {"fields": ("display_name", "phone")}))  # type: ignore[misc]
    list_display = ("username", "display_name", "email", "is_active", "is_staff")
    inlines = [MembershipInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "user", "team", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    list_filter = ("revoked_at",)
