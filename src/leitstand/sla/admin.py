from __future__ import annotations

from django.contrib import admin

from leitstand.sla.models import Calendar, SlaPolicy, SlaTarget


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "timezone", "holiday_country", "holiday_subdivision", "updated_at")
    search_fields = ("name",)


class SlaTargetInline(admin.TabularInline):  # type: ignore[type-arg]
    model = SlaTarget
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "calendar", "updated_at")
    inlines = (SlaTargetInline,)
