from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction

from kefu.core import audit

from .models import AllowedOrigin, VisitorToken


@admin.register(AllowedOrigin)
class AllowedOriginAdmin(admin.ModelAdmin):
    list_display = ("origin", "note", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("origin", "note")

    # Which sites may embed the chat is configuration: every change is an audit event.
    def save_model(self, request: Any, obj: AllowedOrigin, form: Any, change: bool) -> None:
        obj.origin = obj.origin.rstrip("/").lower()
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit.record(
                actor=request.user,
                verb="realtime.origin_saved",
                target=obj,
                data={"origin": obj.origin, "is_active": obj.is_active},
            )

    def delete_model(self, request: Any, obj: AllowedOrigin) -> None:
        with transaction.atomic():
            audit.record(
                actor=request.user, verb="realtime.origin_deleted", target=obj, data={"origin": obj.origin}
            )
            super().delete_model(request, obj)


@admin.register(VisitorToken)
class VisitorTokenAdmin(admin.ModelAdmin):
    list_display = ("purpose", "created_at", "expires_at", "revoked_at")
    readonly_fields = ("key_hash", "purpose", "groups", "created_at", "expires_at", "revoked_at")
    search_fields = ("purpose",)

    def has_add_permission(self, request):
        return False
