from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction

from kefu.core import audit

from .models import Attachment, ChatSettings, Conversation, Message, Transfer


@admin.register(ChatSettings)
class ChatSettingsAdmin(admin.ModelAdmin):
    list_display = ("team", "calendar", "routing", "max_concurrent", "idle_minutes")

    def save_model(self, request: Any, obj: ChatSettings, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit.record(
                actor=request.user,
                verb="chat.settings_saved",
                target=obj,
                data={
                    f: str(getattr(obj, f))
                    for f in (
                        "routing",
                        "max_concurrent",
                        "idle_minutes",
                        "calendar_id",
                        "left_message_agent_id",
                    )
                },
            )


class MessageInline(admin.TabularInline):
    model = Message
    fields = ("seq", "sender", "kind", "text", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


class AttachmentInline(admin.TabularInline):
    model = Attachment
    fields = ("original_name", "content_type", "size", "sender", "is_transcript", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("pk", "visitor_name", "team", "agent", "status", "created_at", "rating")
    list_filter = ("status", "rating")
    readonly_fields = [f.name for f in Conversation._meta.fields]
    inlines = [MessageInline, AttachmentInline]

    def has_add_permission(self, request: Any) -> bool:
        return False


@admin.register(Transfer)
class TransferAdmin(admin.ModelAdmin):
    list_display = ("conversation", "from_team", "to_team", "reason", "at")
    readonly_fields = [f.name for f in Transfer._meta.fields]
