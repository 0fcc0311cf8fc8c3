"""Admin: the taxonomy is edited here (with effective dates); orders are read-only, and the one bulk
action goes through the services, so an illegal transition is refused here as everywhere else."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kefu.core.admin import AuditedAdmin, ScopedAdmin
from kefu.core.errors import DomainError
from kefu.core.scope import as_scoped
from kefu.core.web import actor_of

from . import services
from .models import Category, Hop, Ticket


@admin.register(Category)
class CategoryAdmin(AuditedAdmin):
    list_display = ("code", "path_display", "level", "sort_order", "valid_from", "valid_to")
    list_filter = ("level",)
    search_fields = ("code", "name")
    ordering = ("level", "parent__sort_order", "sort_order")

    @admin.display(description=_("分类路径"))
    def path_display(self, obj: Category) -> str:
        return obj.path

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Retire a node by setting valid_to; deleting would rewrite past months' reports.
        return False


class HopInline(admin.TabularInline):
    model = Hop
    extra = 0
    can_delete = False
    fields = (
        "from_team",
        "to_team",
        "reason_code",
        "off_rule",
        "status",
        "created_at",
        "accepted_at",
        "returned_at",
        "return_reason",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> Any:
        return as_scoped(super().get_queryset(request)).unscoped(
            "inline of an order the admin fetched through its scope"
        )


@admin.register(Ticket)
class TicketAdmin(ScopedAdmin):
    list_display = (
        "number",
        "kind",
        "channel",
        "province",
        "status",
        "holder_team",
        "off_rule_transfers",
        "created_at",
    )
    list_filter = ("kind", "channel", "status", "province")
    search_fields = ("number", "subject", "caller_phone")
    date_hierarchy = "created_at"
    inlines = [HopInline]
    actions = ["close_resolved"]
    list_select_related = ("province", "holder_team")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Status and everything else change only through the services (the workbench and the API).
        return [f.name for f in Ticket._meta.concrete_fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("归档所选已办结工单(经由工作流)"))
    def close_resolved(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        actor = actor_of(request)
        done, refused = 0, []
        for ticket in queryset.select_related("holder_team"):
            try:
                services.ticket_close(actor=actor, ticket=ticket)
                done += 1
            except DomainError as exc:
                refused.append(f"{ticket.number}: {exc.message}")
        if done:
            self.message_user(request, _("已归档 %(n)d 张工单。") % {"n": done}, messages.SUCCESS)
        for line in refused[:20]:
            self.message_user(request, line, messages.ERROR)
