from __future__ import annotations

from django.contrib import admin

from leitstand.reports.models import ClaimRule


@admin.register(ClaimRule)
class ClaimRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "window_days", "requires_reported_incident")
