from __future__ import annotations

from django.contrib import admin

from leitstand.operations.models import (
    Agent,
    AgentReport,
    EnrollmentToken,
    InterventionRule,
    ProcessException,
    ProcessPolicy,
    QuarantinedReport,
    RemoteAction,
    RestartPolicy,
)


@admin.register(InterventionRule)
class InterventionRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "no_answer_for_seconds")


@admin.register(RestartPolicy)
class RestartPolicyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "silence_seconds", "max_consecutive")


class ProcessExceptionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ProcessException
    extra = 0


@admin.register(ProcessPolicy)
class ProcessPolicyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "max_runtime_seconds", "max_rss_bytes", "prohibited")
    inlines = (ProcessExceptionInline,)


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("asset", "hostname", "version", "last_seen_at", "last_seq")
    search_fields = ("asset__name", "hostname", "asset__customer__number")
    readonly_fields = (
        "secret_hash",
        "pending_secret_hash",
        "action_key",
        "enrolled_at",
        "last_seen_at",
        "last_seq",
    )


@admin.register(EnrollmentToken)
class EnrollmentTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("asset", "created_at", "expires_at", "used_at")
    readonly_fields = ("token_hash", "used_at")


@admin.register(QuarantinedReport)
class QuarantinedReportAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("received_at", "agent", "reason")
    readonly_fields = ("agent", "received_at", "reason", "body")


@admin.register(RemoteAction)
class RemoteActionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("created_at", "agent", "type", "status", "requested_by", "finished_at")
    list_filter = ("status", "type")
    readonly_fields = ("nonce", "started_at", "finished_at", "output")


@admin.register(AgentReport)
class AgentReportAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("agent", "seq", "collected_at", "received_at")
    readonly_fields = ("agent", "seq", "collected_at", "received_at", "body")
