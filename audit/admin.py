"""The audit trail in the Django admin: read-only, for the installation's superusers."""

from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Look, never touch: no add, change or delete, whatever the user's permissions."""

    list_display = [
        "occurred_at",
        "action",
        "object_type",
        "organization",
        "actor",
        "ip_address",
        "request_id",
    ]
    list_filter = ["action", "object_type"]
    list_select_related = ["actor", "organization"]
    search_fields = ["request_id"]
    date_hierarchy = "occurred_at"
    readonly_fields = [
        "occurred_at",
        "actor",
        "organization",
        "action",
        "object_type",
        "object_ids",
        "client_ids",
        "detail",
        "ip_address",
        "request_id",
    ]
    fields = readonly_fields
    actions = None

    @admin.display(description="Client IDs")
    def client_ids(self, obj: AuditEvent) -> str:
        return ", ".join(str(c) for c in obj.clients.values_list("client_id", flat=True)) or "—"

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
