from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Membership, Network, Organization, Partnership, PartnershipDocument, User


@admin.register(User)
class LinkageUserAdmin(UserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_superuser"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Network)
class NetworkAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "network", "kind", "sub_kind", "is_active"]
    list_filter = ["kind", "network"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


class PartnershipDocumentInline(admin.TabularInline):
    model = PartnershipDocument
    extra = 0


@admin.register(Partnership)
class PartnershipAdmin(admin.ModelAdmin):
    list_display = ["name", "network", "status", "start_date", "end_date"]
    list_filter = ["status", "network"]
    filter_horizontal = ["organizations"]
    inlines = [PartnershipDocumentInline]
