from __future__ import annotations

from django.contrib import admin

from leitstand.maintenance.models import MaintenanceWindow, UpdatePolicy


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "timezone", "days", "start", "end")


@admin.register(UpdatePolicy)
class UpdatePolicyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "included")
