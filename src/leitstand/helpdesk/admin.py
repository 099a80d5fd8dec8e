from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from leitstand.core.admin import ReadOnlyAdmin
from leitstand.helpdesk import inbound
from leitstand.helpdesk.models import (
    AutoReply,
    InboundMail,
    Message,
    Ticket,
    TimeEntry,
    WaitingPeriod,
)


class MessageInline(admin.StackedInline):  # type: ignore[type-arg]
    model = Message
    extra = 0
    fields = (
        "created_at",
        "author_user",
        "author_contact",
        "author_email",
        "internal",
        "channel",
        "body",
    )


class TimeEntryInline(admin.TabularInline):  # type: ignore[type-arg]
    model = TimeEntry
    extra = 0


class WaitingPeriodInline(admin.TabularInline):  # type: ignore[type-arg]
    model = WaitingPeriod
    extra = 0


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "number",
        "subject",
        "customer",
        "kind",
        "priority",
        "status",
        "assignee",
        "created_at",
    )
    list_filter = ("status", "kind", "channel", "priority")
    search_fields = ("number", "subject", "customer__number", "customer__name", "requester_email")
    readonly_fields = ("number",)
    inlines = (MessageInline, WaitingPeriodInline, TimeEntryInline)


@admin.register(InboundMail)
class InboundMailAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The quarantine: every mail as it came, what became of it and why."""

    list_display = ("received_at", "sender", "subject", "outcome", "reason", "ticket")
    list_filter = ("outcome", "source")
    search_fields = ("sender", "subject", "message_id", "reason")
    exclude = ("raw",)  # bytes are no form field; staff fetch them from the mailbox copy
    readonly_fields = (
        "received_at",
        "source",
        "size",
        "truncated",
        "message_id",
        "dedupe_key",
        "sender",
        "subject",
        "outcome",
        "reason",
        "ticket",
        "processed_at",
    )
    actions = ("process_again",)

    @admin.action(description=_("Process again"))
    def process_again(self, request: HttpRequest, queryset: QuerySet[InboundMail]) -> None:
        """After staff added the sender's address to a customer, for example."""
        done = sum(
            inbound.reprocess(mail).kind != InboundMail.Outcome.QUARANTINED
            for mail in queryset.filter(
                outcome__in=[InboundMail.Outcome.QUARANTINED, InboundMail.Outcome.PENDING]
            )
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d mail left the quarantine.",
                "%(count)d mails left the quarantine.",
                done,
            )
            % {"count": done},
            messages.SUCCESS,
        )


@admin.register(AutoReply)
class AutoReplyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("sent_at", "sender", "ticket")
    search_fields = ("sender", "ticket__number")
    readonly_fields = ("sent_at", "sender", "ticket", "message_id")


# -- estimates and SLA notices (helpdesk.estimates, helpdesk.sla_watch) --------------

from leitstand.helpdesk.models import Estimate, SlaNotice  # noqa: E402


@admin.register(Estimate)
class EstimateAdmin(ReadOnlyAdmin):
    """Read-only: an estimate is created and answered through its workflow, and its
    record is proof; editing it here would make the proof worthless."""

    list_display = ("reference", "ticket", "amount", "currency", "state", "decided_at")
    list_filter = ("state", "decided_via")
    search_fields = ("reference", "ticket__number", "ticket__customer__number")


@admin.register(SlaNotice)
class SlaNoticeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("created_at", "ticket", "target", "priority", "kind", "deadline", "alert")
    list_filter = ("kind", "target")
    search_fields = ("ticket__number",)
    readonly_fields = ("ticket", "target", "priority", "kind", "deadline", "created_at", "alert")
