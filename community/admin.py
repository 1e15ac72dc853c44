"""Django admin registrations for community models."""

from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only from the application, the admin included."""

    list_display = ["created_at", "actor", "action", "target_type", "target_id", "ip"]
    list_filter = ["action"]
    search_fields = ["action", "target_repr", "actor__username"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
