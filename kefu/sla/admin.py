from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from kefu.core.admin import AuditedAdmin, ReadOnlyAdmin, ScopedAdmin

from .models import Clock, Holiday, Notice, Policy, ServiceCalendar, ServiceHours


class ServiceHoursFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not kept:
            # A calendar without one open weekday cannot place a service-hour deadline: every clock on it would fail.
            raise ValidationError(_("服务日历至少需要一天的服务时段。"))


class ServiceHoursInline(admin.TabularInline):
    model = ServiceHours
    formset = ServiceHoursFormSet
    extra = 0
    max_num = 7


@admin.register(ServiceCalendar)
class ServiceCalendarAdmin(AuditedAdmin):
    list_display = ("name", "code", "timezone", "observes_holidays")
    inlines = [ServiceHoursInline]


@admin.register(Holiday)
class HolidayAdmin(AuditedAdmin):
    list_display = ("date", "name", "kind")
    list_filter = ("kind", "date")
    date_hierarchy = "date"
    search_fields = ("name",)


@admin.register(Policy)
class PolicyAdmin(AuditedAdmin):
    list_display = (
        "name",
        "target",
        "ticket_kind",
        "team_kind",
        "duration_minutes",
        "counting",
        "calendar",
        "warn_ratio",
        "on_time_target",
        "is_active",
    )
    list_filter = ("target", "team_kind", "counting", "is_active")


class _ReadOnly(ReadOnlyAdmin, ScopedAdmin):
    """Clocks and notices change only through the SLA services and the sweep; rows in the admin's scope."""


@admin.register(Clock)
class ClockAdmin(_ReadOnly):
    list_display = (
        "owner_type",
        "owner_id",
        "kind",
        "ticket_kind",
        "team",
        "province",
        "status",
        "outcome",
        "started_at",
        "due_at",
        "warned_at",
        "breached_at",
    )
    list_filter = ("kind", "status", "outcome", "ticket_kind")
    search_fields = ("owner_type", "owner_id")


@admin.register(Notice)
class NoticeAdmin(_ReadOnly):
    list_display = (
        "created_at",
        "kind",
        "clock_kind",
        "team",
        "province",
        "owner_type",
        "owner_id",
        "due_at",
    )
    list_filter = ("kind", "clock_kind")
