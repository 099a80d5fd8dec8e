"""Back-office configuration of channels, schedules and policies; the alert and outbox record."""

from __future__ import annotations

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
    Notification,
    OnCallMember,
    OnCallOverride,
    OnCallSchedule,
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
        "policy",
        "level",
        "next_escalation_at",
        "next_renotify_at",
        "renotify_count",
        "acknowledged_at",
        "acknowledged_by",
        "resolved_at",
    )
    actions = ("acknowledge",)

    @admin.action(description=_("Acknowledge selected alerts"))
    def acknowledge(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        user = request.user
        assert user.is_authenticated  # the admin requires a login
        count = sum(actions.acknowledge(alert, user) for alert in queryset)
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
