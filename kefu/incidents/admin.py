from django.contrib import admin

from .models import Bulletin, Incident, Mail, Update


class UpdateInline(admin.TabularInline):
    model = Update
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "at", "author", "status_from", "status_to", "body")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("number", "title", "impact", "status", "declared_at", "hq_notified_at", "hq_seen_at")
    list_filter = ("status", "impact")
    search_fields = ("number", "title")
    inlines = [UpdateInline]
    # Incidents change through the services (timeline, audit); the admin reads.
    readonly_fields = [f.name for f in Incident._meta.fields] + ["provinces", "categories"]

    def has_add_permission(self, request):
        return False


@admin.register(Bulletin)
class BulletinAdmin(admin.ModelAdmin):
    list_display = ("incident", "version", "issued_at", "is_current")
    readonly_fields = [f.name for f in Bulletin._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Mail)
class MailAdmin(admin.ModelAdmin):
    list_display = ("incident", "purpose", "email", "status", "attempts", "sent_at")
    list_filter = ("status", "purpose")
    readonly_fields = [f.name for f in Mail._meta.fields]
