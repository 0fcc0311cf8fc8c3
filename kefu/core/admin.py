from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import audit, outbox
from .models import AuditEvent, JobHeartbeat, OutboxMail
from .scope import as_scoped
from .web import actor_of


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AuditedAdmin(admin.ModelAdmin):
    """Configuration edited in the admin is an event like any other (policy, calendar, team,
    membership, category...): one ``config.*`` audit row per saved, added or deleted object,
    inline rows included, in the admin's own transaction."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        _record(
            request,
            "config.changed" if change else "config.added",
            obj,
            fields=sorted(form.changed_data) if change else [],
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        _record(request, "config.deleted", obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            _record(request, "config.deleted", obj)
        super().delete_queryset(request, queryset)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            _record(request, "config.deleted", obj)
            obj.delete()
        changed = {id(obj): fields for obj, fields in getattr(formset, "changed_objects", [])}
        for obj in instances:
            adding = obj.pk is None
            obj.save()
            _record(
                request,
                "config.added" if adding else "config.changed",
                obj,
                fields=[] if adding else sorted(changed.get(id(obj), [])),
            )
        formset.save_m2m()


def _record(request: HttpRequest, verb: str, obj: Any, *, fields: list[str] | None = None) -> None:
    data: dict[str, Any] = {"model": obj._meta.label_lower, "object": str(obj)[:200]}
    if fields:
        data["fields"] = fields
    audit.record(actor=request.user, verb=verb, target=obj, data=data)


audit.register_verbs(
    {
        "config.added": _("后台新增配置"),
        "config.changed": _("后台修改配置"),
        "config.deleted": _("后台删除配置"),
        "outbox.retry": _("邮件重新排队发送"),
        "outbox.failed": _("邮件发送失败(已停止重试)"),
    }
)


class ScopedAdmin(admin.ModelAdmin):
    """Admin for province-owned models: rows limited to the administrator's scope."""

    def get_queryset(self, request: HttpRequest) -> Any:
        return as_scoped(super().get_queryset(request)).scoped(actor_of(request).scope)


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


@admin.register(OutboxMail)
class OutboxMailAdmin(ReadOnlyAdmin):
    """The one outbox: failed mails are visible here and can be put back (through ``outbox.retry``)."""

    list_display = (
        "created_at",
        "purpose_label",
        "email",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    )
    list_filter = ("status", "purpose")
    search_fields = ("key", "ref", "subject", "to")
    actions = ["retry_selected"]

    @admin.display(description=_("用途"))
    def purpose_label(self, obj: OutboxMail) -> str:
        return obj.get_purpose_display()

    @admin.action(description=_("重新发送所选的失败邮件"))
    def retry_selected(self, request: HttpRequest, queryset: Any) -> None:
        n = outbox.retry(actor=request.user, queryset=queryset)
        self.message_user(request, _("已重新排队 %(n)d 封邮件。") % {"n": n})


admin.site.site_header = _("新视通客服平台 · 后台配置")
admin.site.site_title = _("新视通客服平台后台")
admin.site.index_title = _("组织、时限策略、分类与报表配置")
