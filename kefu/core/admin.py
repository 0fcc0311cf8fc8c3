from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent, JobHeartbeat


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ScopedAdmin(admin.ModelAdmin):
    """Admin for province-owned models: rows limited to the administrator's scope."""

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).scoped(request.actor.scope)  # type: ignore[attr-defined]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "verb", "target_type", "target_id", "actor_label", "unit_code", "province_code")
    list_filter = ("verb", "target_type", "province_code")
    search_fields = ("target_id", "actor_label", "verb")
    date_hierarchy = "at"


@admin.register(JobHeartbeat)
class JobHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ("name", "last_success_at", "last_started_at", "late", "last_error")

    @admin.display(boolean=True, description=_("延迟告警"))
    def late(self, obj: JobHeartbeat) -> bool:
        return obj.is_late(timezone.now())


admin.site.site_header = _("新视通客服平台 · 后台配置")
admin.site.site_title = _("新视通客服平台后台")
admin.site.index_title = _("组织、时限策略、分类与报表配置")
