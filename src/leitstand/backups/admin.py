from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from leitstand.backups.models import BackupPolicy, RestoreRequest


@admin.register(BackupPolicy)
class BackupPolicyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "scope", "interval_seconds", "keep_months", "keep_seconds")


@admin.register(RestoreRequest)
class RestoreRequestAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """What the customer asked for and the cause they gave (billing reads it)."""

    list_display = ("requested_at", "asset", "what", "target", "point_in_time", "cause", "ticket")
    list_filter = ("what", "cause")
    search_fields = ("asset__name", "asset__customer__number", "target", "ticket__number")
    readonly_fields = (
        "asset",
        "what",
        "target",
        "point_in_time",
        "destination",
        "cause",
        "billable_notice",
        "requested_by",
        "requested_at",
        "ticket",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # restore requests come from customers, through the portal
