"""Read-only admin: the lexicon is changed through the lexicon page (new versions, audited), never edited in place."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from .models import LexiconVersion, PhraseRule, PhraseTemplate, Screening


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(LexiconVersion)
class LexiconVersionAdmin(ReadOnly):
    list_display = ("number", "effective_from", "created_by", "note")


@admin.register(PhraseRule)
class PhraseRuleAdmin(ReadOnly):
    list_display = ("pattern", "category", "severity", "applies_to", "suggestion", "version")
    list_filter = ("version", "category", "severity")
    search_fields = ("pattern", "suggestion")


@admin.register(PhraseTemplate)
class PhraseTemplateAdmin(ReadOnly):
    list_display = ("purpose", "channel", "text", "version")
    list_filter = ("version", "purpose", "channel")


@admin.register(Screening)
class ScreeningAdmin(ReadOnly):
    list_display = ("at", "agent", "channel", "contact_kind", "contact_id", "province_code", "outcome")
    list_filter = ("outcome", "channel", "contact_kind")
