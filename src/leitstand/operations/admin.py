from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from leitstand.operations import process_exceptions
from leitstand.operations.models import (
    Agent,
    AgentReport,
    EnrollmentToken,
    InterventionRule,
    LicenceUsage,
    ProcessException,
    ProcessExceptionRequest,
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


@admin.register(LicenceUsage)
class LicenceUsageAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("asset", "measured_at", "user_accounts", "concurrent_users", "source")
    list_filter = ("source",)
    search_fields = ("asset__name", "asset__customer__number")
    raw_id_fields = ("asset",)


class DecisionForm(forms.ModelForm):  # type: ignore[type-arg]
    """Staff decide on a request: the decision and its written text go to the customer."""

    decision = forms.ChoiceField(
        label=_("decision"),
        required=False,
        choices=[
            ("", _("no decision yet")),
            ("confirm", _("confirm in writing")),
            ("decline", _("decline")),
            ("revoke", _("revoke a confirmed exception")),
        ],
    )

    class Meta:
        model = ProcessExceptionRequest
        fields = ("decision", "decision_text", "valid_from", "valid_until")


@admin.register(ProcessExceptionRequest)
class ProcessExceptionRequestAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Seed 000 IX: exceptions "must be confirmed in writing"; the confirmation is
    recorded with who and when, and sent to the customer on the request's ticket."""

    form = DecisionForm
    list_display = (
        "asset",
        "command",
        "status",
        "requested_at",
        "decided_by",
        "valid_from",
        "valid_until",
    )
    list_filter = ("status",)
    search_fields = ("asset__name", "asset__customer__number", "command")
    readonly_fields = (
        "asset",
        "command",
        "max_runtime_seconds",
        "max_rss_bytes",
        "reason",
        "requested_by",
        "requested_at",
        "ticket",
        "status",
        "decided_by",
        "decided_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # requests come from customers, through the portal

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        decision = form.cleaned_data.get("decision")
        text = form.cleaned_data.get("decision_text") or ""
        original = ProcessExceptionRequest.objects.get(pk=obj.pk)
        try:
            if decision == "confirm":
                process_exceptions.confirm(
                    original,
                    request.user,
                    text,
                    valid_from=form.cleaned_data.get("valid_from"),
                    valid_until=form.cleaned_data.get("valid_until"),
                )
            elif decision == "decline":
                process_exceptions.decline(original, request.user, text)
            elif decision == "revoke":
                process_exceptions.revoke(original, request.user, text)
        except process_exceptions.ExceptionRequestError as exc:
            self.message_user(request, str(exc), level="error")
