from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.web import actor_of
from kefu.org.models import Unit

from . import selectors, services
from .models import MailStatus, OutboundMail, Recipient, RollupCheckpoint


def _scope(request: HttpRequest) -> Any:
    return selectors.reader_scope(actor_of(request), "admin.site")


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "unit", "user", "is_active")
    list_filter = ("is_active", "unit__kind")
    search_fields = ("name", "email", "unit__name")
    autocomplete_fields = ("user",)

    # Recipients are not a province-scoped model (HQ units have no province), so the admin narrows by hand:
    # a province administrator sees and assigns its own province's units only.
    def get_queryset(self, request: HttpRequest) -> QuerySet[Recipient]:
        qs = super().get_queryset(request)
        scope = _scope(request)
        return qs if scope.national else qs.filter(unit__province_id__in=scope.province_ids)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "unit":
            scope = _scope(request)
            if not scope.national:
                kwargs["queryset"] = Unit.objects.filter(province_id__in=scope.province_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(OutboundMail)
class OutboundMailAdmin(admin.ModelAdmin):
    list_display = (
        "month",
        "email",
        "province",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    )
    list_filter = ("status", "report", "month")
    search_fields = ("email",)
    actions = ["retry"]
    readonly_fields = [f.name for f in OutboundMail._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutboundMail]:
        qs = super().get_queryset(request)
        scope = _scope(request)
        return qs if scope.national else qs.filter(province_id__in=scope.province_ids)

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)
        if not _scope(
            request
        ).national:  # requeueing is the national administrators' (services.require_mail_admin)
            actions.pop("retry", None)
        return actions

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("立即重试所选失败邮件"))
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboundMail]) -> None:
        ids = list(
            queryset.filter(status__in=[MailStatus.FAILED, MailStatus.RETRYING]).values_list("pk", flat=True)
        )
        n = services.mail_retry(actor=actor_of(request), mail_ids=ids, now=timezone.now())
        messages.success(request, _("已重新排队 %(n)d 封邮件。") % {"n": n})


@admin.register(RollupCheckpoint)
class RollupCheckpointAdmin(admin.ModelAdmin):
    list_display = ("name", "changed_until", "last_run_at", "last_cells")
    readonly_fields = ("name", "changed_until", "last_run_at", "last_cells")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
