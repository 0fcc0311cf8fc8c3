"""Lines (access numbers, queues, targets), call sources and agent extensions are data, edited here.

Every edit is a ``config.*`` audit event (``AuditedAdmin``). Calls, alerts and imports are
history: read-only, and province-owned rows limited to the administrator's scope.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kefu.core.admin import AuditedAdmin, ReadOnlyAdmin, ScopedAdmin
from kefu.core.web import actor_of

from .models import AgentMapping, Call, CallSource, IngestRun, Line, RateAlert
from .services import token_hash


class LineForm(forms.ModelForm):
    class Meta:
        model = Line
        fields = (
            "code",
            "name",
            "kind",
            "province",
            "team",
            "is_active",
            "number",
            "access_code",
            "queues",
            "target_percent",
            "answer_seconds",
            "target_basis",
            "calendar",
        )

    def validate_unique(self) -> None:
        # Django's own check reads through the default (province-scoped) manager, which refuses to read
        # without a scope; the numbers and codes are unique across every province, so check them all.
        others = Line.objects.unscoped("admin: a line's code and number are unique nationwide")
        if self.instance.pk is not None:
            others = others.exclude(pk=self.instance.pk)
        for name in ("code", "number"):
            value = self.cleaned_data.get(name)
            if value and others.filter(**{name: value}).exists():
                self.add_error(name, _("已有线路使用该值。"))


@admin.register(Line)
class LineAdmin(AuditedAdmin, ScopedAdmin):
    form = LineForm
    list_display = (
        "name",
        "code",
        "kind",
        "province",
        "number",
        "access_code",
        "queues",
        "target_percent",
        "answer_seconds",
        "calendar",
        "is_active",
    )
    list_editable = ("number", "target_percent", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "code", "number", "queues")
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "province", "team", "is_active")}),
        (_("接入"), {"fields": ("number", "access_code", "queues")}),
        (_("接通率目标"), {"fields": ("target_percent", "answer_seconds", "target_basis", "calendar")}),
    )


class CallSourceForm(forms.ModelForm):
    new_token = forms.CharField(
        label=_("设置新令牌"),
        required=False,
        strip=True,
        min_length=24,
        help_text=_("令牌认证的来源：填写后只保存其摘要，原文不再显示；留空则不变"),
    )

    class Meta:
        model = CallSource
        fields = ("code", "name", "auth", "secret", "max_events_per_minute", "is_active")


@admin.register(CallSource)
class CallSourceAdmin(AuditedAdmin):
    form = CallSourceForm
    list_display = ("name", "code", "auth", "max_events_per_minute", "is_active")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if form.cleaned_data.get("new_token"):
            obj.token_hash = token_hash(form.cleaned_data["new_token"])
        super().save_model(request, obj, form, change)


@admin.register(AgentMapping)
class AgentMappingAdmin(AuditedAdmin):
    list_display = ("ref", "user")
    search_fields = ("ref", "user__username", "user__display_name")
    raw_id_fields = ("user",)


class LineFilter(admin.SimpleListFilter):
    """Filter calls by line: the choices are the lines in the administrator's scope (a plain
    ``"line"`` filter reads every line through the province-owned manager and is refused)."""

    title = _("线路")
    parameter_name = "line"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        lines = Line.objects.scoped(actor_of(request).scope).order_by("pk")
        return [(str(line.pk), str(line)) for line in lines]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        value = self.value()
        return queryset.filter(line_id=int(value)) if value and value.isdigit() else queryset


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin, ScopedAdmin):
    list_display = ("call_id", "line", "caller", "request_at", "answered_at", "outcome", "agent_ref")
    list_filter = ("outcome", LineFilter)
    search_fields = ("call_id", "caller")


@admin.register(RateAlert)
class RateAlertAdmin(ReadOnlyAdmin, ScopedAdmin):
    list_display = ("line", "window_end", "offered", "answered_in_target", "created_at")


@admin.register(IngestRun)
class IngestRunAdmin(ReadOnlyAdmin):
    list_display = ("filename", "source", "format", "created_at", "lines_total", "lines_rejected", "repeated")
