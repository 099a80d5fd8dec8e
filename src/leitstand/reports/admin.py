from __future__ import annotations

from django.contrib import admin

from leitstand.core.admin import ReadOnlyAdmin
from leitstand.reports.models import Claim, ClaimRule


@admin.register(ClaimRule)
class ClaimRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "name",
        "window_days",
        "requires_reported_incident",
        "availability_target",
        "cap_percent",
    )


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    """Read-only: claims are decided on the decision page (/staff/claims/), which
    computes the amount; editing them here would bypass the computation."""

    list_display = ("pk", "customer", "contract", "month", "state", "amount", "credit_line")
    list_filter = ("state",)
    search_fields = ("customer__number", "customer__name", "statement")
