"""Back-office configuration of channels, schedules and policies; the alert and outbox record."""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from leitstand.alerting import actions
from leitstand.alerting.models import (
    Alert,
    Channel,
    EscalationLevel,
    EscalationPolicy,
    ExternalAlert,
    InboundSource,
    Notification,
    OnCallMember,
    OnCallOverride,
    OnCallSchedule,
    QuarantinedPayload,
    SmsReply,
)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("__str__", "kind", "contact", "user", "position", "enabled")
    list_filter = ("kind", "enabled")
    search_fields = ("name", "contact__name", "contact__customer__number", "user__username")
    raw_id_fields = ("contact", "user")


class OnCallMemberInline(admin.TabularInline):  # type: ignore[type-arg]
    model = OnCallMember
    extra = 0


class OnCallOverrideInline(admin.TabularInline):  # type: ignore[type-arg]
    model = OnCallOverride
    extra = 0


@admin.register(OnCallSchedule)
class OnCallScheduleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "calendar", "timezone", "rotation_length")
    search_fields = ("name",)
    inlines = (OnCallMemberInline, OnCallOverrideInline)


class EscalationLevelInline(admin.TabularInline):  # type: ignore[type-arg]
    model = EscalationLevel
    extra = 0


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "is_default", "renotify_every")
    search_fields = ("name",)
    inlines = (EscalationLevelInline,)


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "asset",
        "summary",
        "opened_at",
        "level",
        "acknowledged_at",
        "acknowledged_by",
        "acknowledged_via",
        "resolved_at",
    )
    list_filter = ("level",)
    search_fields = ("asset__name", "asset__customer__number", "summary")
    date_hierarchy = "opened_at"
    # The record of an incident is written by the alerting steps, not by hand.
    readonly_fields = (
        "asset",
        "group_key",
        "opened_by",
        "opened_at",
        "summary",
        "priority",
        "policy",
        "level",
        "next_escalation_at",
        "next_renotify_at",
        "renotify_count",
        "acknowledged_at",
        "acknowledged_by",
        "acknowledged_via",
        "resolved_at",
    )
    actions = ("acknowledge",)

    @admin.action(description=_("Acknowledge selected alerts"))
    def acknowledge(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        user = request.user
        assert user.is_authenticated  # the admin requires a login
        count = sum(actions.acknowledge(alert, user, via="admin") for alert in queryset)
        self.message_user(
            request,
            ngettext("%(count)d alert acknowledged.", "%(count)d alerts acknowledged.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("alert", "channel", "kind", "status", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("idempotency_key", "alert__asset__name", "alert__asset__customer__number")
    raw_id_fields = ("alert", "channel")
    readonly_fields = ("idempotency_key", "claimed_by", "claimed_until", "last_error")


@admin.register(InboundSource)
class InboundSourceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Sources with their hook address; a new token is made on saving with "new token" ticked."""

    list_display = ("name", "kind", "customer", "asset", "enabled", "last_received_at")
    list_filter = ("kind", "enabled")
    search_fields = ("name", "slug", "customer__number", "asset__name")
    raw_id_fields = ("customer", "asset")
    readonly_fields = ("last_received_at",)
    prepopulated_fields: ClassVar = {"slug": ("name",)}
    actions = ("rotate_token",)

    @admin.action(description=_("Make a new token (the old one stops working)"))
    def rotate_token(self, request: HttpRequest, queryset: QuerySet[InboundSource]) -> None:
        for source in queryset:
            token = secrets.token_urlsafe(32)
            source.set_token(token)
            source.save(update_fields=["token_hash"])
            self.message_user(
                request,
                _("Token for %(name)s (shown only now): %(token)s")
                % {"name": source, "token": token},
                messages.WARNING,
            )

    def save_model(self, request: HttpRequest, obj: InboundSource, form: Any, change: bool) -> None:
        # The token is shown once, here; only its hash is stored.
        new_token = not obj.token_hash
        if new_token:
            token = secrets.token_urlsafe(32)
            obj.set_token(token)
        super().save_model(request, obj, form, change)
        if new_token:
            self.message_user(
                request,
                _("Token for %(name)s (shown only now): %(token)s") % {"name": obj, "token": token},
                messages.WARNING,
            )


@admin.register(ExternalAlert)
class ExternalAlertAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "source", "asset", "state", "priority", "starts_at", "last_received_at")
    list_filter = ("state", "priority", "source")
    search_fields = ("name", "fingerprint", "asset__name")
    readonly_fields = tuple(f.name for f in ExternalAlert._meta.fields)


@admin.register(QuarantinedPayload)
class QuarantinedPayloadAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Inbound payloads that could not be used, to read and act on by hand."""

    list_display = ("received_at", "source", "error", "body_size", "truncated")
    list_filter = ("source",)
    search_fields = ("error", "path")
    readonly_fields = (
        "source",
        "received_at",
        "path",
        "content_type",
        "remote_addr",
        "error",
        "body_size",
        "truncated",
        "body_text",
    )
    exclude = ("body",)

    @admin.display(description=_("body"))
    def body_text(self, obj: QuarantinedPayload) -> str:
        return obj.text()


@admin.register(SmsReply)
class SmsReplyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("received_at", "gateway", "from_number", "outcome", "alert", "user")
    list_filter = ("outcome", "gateway")
    search_fields = ("from_number", "body")
    readonly_fields = tuple(f.name for f in SmsReply._meta.fields)
