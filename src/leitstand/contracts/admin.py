from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from leitstand.contracts.models import (
    AddOn,
    Asset,
    Contact,
    Contract,
    Customer,
    Plan,
    VerifiedEmail,
)
from leitstand.operations import agents


class ContactInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Contact
    extra = 0


class AssetInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Asset
    extra = 0
    fields = ("name", "kind", "hostnames", "addresses")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("number", "name", "country", "is_business", "language")
    search_fields = ("number", "name", "vat_id")
    list_filter = ("country", "is_business")
    inlines = (ContactInline, AssetInline)


class VerifiedEmailInline(admin.TabularInline):  # type: ignore[type-arg]
    model = VerifiedEmail
    extra = 0


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "customer", "may_order_paid_work", "is_technical", "is_billing")
    list_filter = ("may_order_paid_work", "is_technical", "is_billing")
    search_fields = ("name", "customer__number", "verified_emails__address")
    inlines = (VerifiedEmailInline,)


class ContractInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Contract
    extra = 0
    fields = ("plan", "starts_on", "ends_on", "alarming_booked")


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "customer", "kind")
    list_filter = ("kind",)
    search_fields = ("name", "customer__number", "customer__name")
    inlines = (ContractInline,)
    actions = ("create_enrollment_token",)

    @admin.action(description=_("Create an agent enrollment token (valid 24 h)"))
    def create_enrollment_token(self, request: HttpRequest, queryset: QuerySet[Asset]) -> None:
        """Show each token once: only its hash is stored."""
        url = request.build_absolute_uri("/")
        for asset in queryset:
            token = agents.create_enrollment_token(asset)
            self.message_user(
                request,
                _("%(asset)s: leitstand-agent enroll %(url)s %(token)s")
                % {"asset": asset, "url": url, "token": token},
                messages.SUCCESS,
            )


class AddOnInline(admin.TabularInline):  # type: ignore[type-arg]
    model = AddOn
    extra = 0


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "title", "monthly_fee", "currency", "sla_policy", "rate_card")
    search_fields = ("name", "title")
    inlines = (AddOnInline,)


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("asset", "plan", "starts_on", "ends_on", "alarming_booked")
    list_filter = ("plan", "alarming_booked")
    search_fields = ("asset__name", "asset__customer__number", "reference")
    filter_horizontal = ("addons",)
