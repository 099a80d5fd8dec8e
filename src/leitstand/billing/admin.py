from __future__ import annotations

from django.contrib import admin

from leitstand.billing.models import Rate, RateCard


class RateInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Rate
    extra = 0


@admin.register(RateCard)
class RateCardAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "currency", "increment_seconds", "free_up_to_seconds")
    inlines = (RateInline,)
