"""Admin for the knowledge base: read-only lookups.

Content changes only through the services (the knowledge pages and the API),
so every edit is a revision and every step an audit event. Text is shown
escaped, as everywhere.
"""

from __future__ import annotations

from django.contrib import admin

from kefu.core.admin import ReadOnlyAdmin, ScopedAdmin

from .models import Article, CommonProblem, Feedback, LoadReceipt, Revision


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdmin):
    list_display = ("code", "published_revision", "published_at", "created_at")
    search_fields = ("revisions__title",)


@admin.register(Revision)
class RevisionAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__",
        "status",
        "category_code",
        "release",
        "late_submission",
        "author",
        "created_at",
    )
    list_filter = ("status", "late_submission", "urgent")
    search_fields = ("title", "question", "keywords")


class _ReadOnlyScoped(ScopedAdmin, ReadOnlyAdmin):
    pass


@admin.register(LoadReceipt)
class LoadReceiptAdmin(_ReadOnlyScoped):
    list_display = ("revision", "province", "loaded_at", "loaded_by", "reminder_count")
    list_filter = ("province",)


@admin.register(Feedback)
class FeedbackAdmin(_ReadOnlyScoped):
    list_display = ("created_at", "kind", "province", "article", "state", "text")
    list_filter = ("state", "kind")


@admin.register(CommonProblem)
class CommonProblemAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "category_code", "sample_count", "province_count", "state", "last_mined_at")
    list_filter = ("state",)
