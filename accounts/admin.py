from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import ApiKey, User


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, BaseUserAdmin):
    list_display = ["username", "last_name", "first_name", "role", "is_active"]
    list_filter = ["role", "is_active", "is_superuser"]
    fieldsets = [*BaseUserAdmin.fieldsets, (None, {"fields": ["role"]})]
    add_fieldsets = [*BaseUserAdmin.add_fieldsets, (None, {"fields": ["role"]})]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "digest", "created_at", "last_used_at"]
    list_select_related = ["user"]
