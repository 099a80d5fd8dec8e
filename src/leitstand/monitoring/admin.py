from __future__ import annotations

from django.contrib import admin

from leitstand.monitoring.models import Check


@admin.register(Check)
class CheckAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "asset", "kind", "interval_seconds", "priority", "enabled")
    list_filter = ("kind", "priority", "enabled")
    search_fields = ("name", "asset__name", "asset__customer__number")
