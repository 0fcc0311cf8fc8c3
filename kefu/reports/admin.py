from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.org.access import actor_for

from . import services
from .models import MailStatus, OutboundMail, Recipient, RollupCheckpoint


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "unit", "user", "is_active")
    list_filter = ("is_active", "unit__kind")
    search_fields = ("name", "email", "unit__name")
    autocomplete_fields = ("user",)


@admin.register(OutboundMail)
class OutboundMailAdmin(admin.ModelAdmin):
    list_display = ("month", "email", "province", "status", "attempts", "next_attempt_at", "sent_at", "last_error")
    list_filter = ("status", "report", "month")
    search_fields = ("email",)
    actions = ["retry"]
    readonly_fields = [f.name for f in OutboundMail._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("立即重试所选失败邮件"))
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboundMail]) -> None:
        ids = list(queryset.filter(status__in=[MailStatus.FAILED, MailStatus.RETRYING]).values_list("pk", flat=True))
        n = services.mail_retry(actor=actor_for(request.user), mail_ids=ids, now=timezone.now())  # type: ignore[arg-type]
        messages.success(request, _("已重新排队 %(n)d 封邮件。") % {"n": n})


@admin.register(RollupCheckpoint)
class RollupCheckpointAdmin(admin.ModelAdmin):
    list_display = ("name", "changed_until", "last_run_at", "last_cells")
    readonly_fields = ("name", "changed_until", "last_run_at", "last_cells")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
