from __future__ import annotations

from django.contrib import admin

from leitstand.billing.models import BillingProfile, InvoiceDocument, Rate, RateCard
from leitstand.core.admin import ReadOnlyAdmin


class RateInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Rate
    extra = 0


@admin.register(RateCard)
class RateCardAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "currency", "increment_seconds", "free_up_to_seconds")
    inlines = (RateInline,)


@admin.register(BillingProfile)
class BillingProfileAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Leitweg-ID and invoice e-mail per customer (what XRechnung needs)."""

    list_display = ("customer", "buyer_reference", "invoice_email")
    search_fields = ("customer__number", "customer__name", "buyer_reference")
    raw_id_fields = ("customer",)


@admin.register(InvoiceDocument)
class InvoiceDocumentAdmin(ReadOnlyAdmin):
    """Stored documents are evidence: they are listed, never edited or deleted here."""

    list_display = ("invoice", "kind", "sha256", "created_at")
    list_filter = ("kind",)
    search_fields = ("invoice__number",)
    exclude = ("content",)
    readonly_fields = ("invoice", "kind", "sha256", "created_at")
