"""Tickets, their messages, waiting periods and recorded time.

Seed 002 §1.6: "Upon submission of a request, the Client will receive a ticket
number for reference." Seed 001 §4: requests arriving "telefonisch, per E-Mail
oder auf sonstigem Wege ... werden als Support-Request im
Helpdesk-Ticketsystem dokumentiert und weiterbearbeitet."
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _


class TicketSequence(models.Model):
    """The last ticket number handed out per year (locked while counting: no gaps, no twins)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("ticket sequence")
        verbose_name_plural = _("ticket sequences")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Ticket(models.Model):
    """An incident, a request, a change, a restore, an abuse report or a claim."""

    class Kind(models.TextChoices):
        INCIDENT = "incident", _("Incident")
        REQUEST = "request", _("Support request")
        CHANGE = "change", _("Change request")
        RESTORE = "restore", _("Restore request")
        ABUSE = "abuse", _("Abuse report")
        CLAIM = "claim", _("Claim")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        WAITING = "waiting", _("Waiting for the customer")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Customer portal")
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Phone")
        MONITORING = "monitoring", _("Monitoring")
        STAFF = "staff", _("Back office")

    number = models.CharField(_("number"), max_length=40, unique=True)
    customer = models.ForeignKey(
        "contracts.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    asset = models.ForeignKey(
        "contracts.Asset",
        verbose_name=_("asset"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name=_("contract"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.REQUEST)
    priority = models.CharField(_("priority"), max_length=50, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    subject = models.CharField(_("subject"), max_length=300)
    requester = models.ForeignKey(
        "contracts.Contact",
        verbose_name=_("requester"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    requester_email = models.EmailField(_("requester e-mail"), blank=True)
    verified = models.BooleanField(
        _("verified request"),
        default=False,
        help_text=_("Came through a portal login or from a verified address of the customer."),
    )
    out_of_scope = models.BooleanField(
        _("outside the service scope"),
        default=False,
        help_text=_("Seed 002 §1.5: an incorrect incident report; the time spent is billable."),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )
    group_key = models.CharField(
        _("grouping key"),
        max_length=100,
        blank=True,
        help_text=_("Monitoring incidents of one host share one open ticket."),
    )
    created_at = models.DateTimeField(_("reported"), db_index=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    diagnosed_at = models.DateTimeField(_("diagnosed"), null=True, blank=True)
    restored_at = models.DateTimeField(_("restored"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # The nearest unmet SLA deadline, kept by queues.refresh_due() whenever the
    # clocks change (priority, milestones, waiting): the back-office queues sort
    # and filter a million tickets by an indexed column instead of computing
    # every ticket's business-time clocks. NULL while paused or without a clock.
    sla_due_at = models.DateTimeField(_("next SLA deadline"), null=True, blank=True)
    sla_due_target = models.CharField(_("next SLA target"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ("-created_at",)
        indexes: ClassVar = [
            models.Index(fields=["customer", "status"]),
            models.Index(fields=["status", "assignee"]),
            models.Index(fields=["group_key", "status"]),
            # Back-office queues (queues.py): only open tickets, in queue order
            # (nearest deadline first, NULLS LAST as PostgreSQL's ascending btree).
            models.Index(
                fields=["sla_due_at", "created_at", "id"],
                condition=Q(status__in=["new", "open", "waiting"]),
                name="ticket_queue_due",
            ),
            models.Index(
                fields=["assignee", "sla_due_at", "created_at", "id"],
                condition=Q(status__in=["new", "open", "waiting"]),
                name="ticket_queue_assignee",
            ),
            models.Index(
                fields=["status", "sla_due_at", "created_at", "id"],
                condition=Q(status__in=["new", "open", "waiting"]),
                name="ticket_queue_status",
            ),
        ]
        constraints: ClassVar = [
            # One open monitoring incident per host: the database enforces the grouping.
            models.UniqueConstraint(
                fields=["group_key"],
                condition=~Q(group_key="") & Q(status__in=["new", "open", "waiting"]),
                name="one_open_ticket_per_group",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in {self.Status.NEW, self.Status.OPEN, self.Status.WAITING}


class Message(models.Model):
    """One entry of a ticket's thread: from the customer, from staff, or an internal note."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="messages"
    )
    created_at = models.DateTimeField(_("time"))
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    author_contact = models.ForeignKey(
        "contracts.Contact",
        verbose_name=_("author (contact)"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    author_email = models.EmailField(_("author e-mail"), blank=True)
    body = models.TextField(_("text"))
    internal = models.BooleanField(_("internal note"), default=False)
    channel = models.CharField(_("channel"), max_length=20, choices=Ticket.Channel.choices)
    message_id = models.CharField(_("Message-ID"), max_length=500, blank=True, db_index=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ("ticket", "created_at", "id")

    def __str__(self) -> str:
        return f"{self.ticket.number} {self.created_at:%Y-%m-%d %H:%M}"


class WaitingPeriod(models.Model):
    """A stretch of waiting for the customer: every SLA clock of the ticket stops."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="waiting_periods"
    )
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("waiting period")
        verbose_name_plural = _("waiting periods")
        ordering = ("ticket", "started_at")

    def __str__(self) -> str:
        return f"{self.ticket.number} {self.started_at:%Y-%m-%d %H:%M}"


class TimeEntry(models.Model):
    """Time a person worked on a ticket, with the work type the rate card prices."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="time_entries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    work_type = models.CharField(_("work type"), max_length=50)
    started_at = models.DateTimeField(_("started"))
    seconds = models.PositiveIntegerField(_("duration (seconds)"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    billable = models.BooleanField(
        _("billable"), help_text=_("Decided from the contract when the time is recorded.")
    )

    class Meta:
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")
        ordering = ("ticket", "started_at")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(seconds__gt=0), name="time_entry_positive")
        ]

    def __str__(self) -> str:
        return f"{self.ticket.number} {self.work_type} {self.seconds // 60} min"


class EventCursor(models.Model):
    """How far the helpdesk has read the monitoring events (one row)."""

    name = models.CharField(max_length=50, primary_key=True)
    last_event_id = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("event cursor")
        verbose_name_plural = _("event cursors")

    def __str__(self) -> str:
        return f"{self.name}: {self.last_event_id}"


class InboundMail(models.Model):
    """One mail as it arrived, kept whatever became of it.

    Stored before anything else happens, so that a mail the helpdesk cannot
    read, or a crash half-way, loses nothing: a quarantined mail waits here for
    staff, with the reason, and can be processed again.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Not processed yet")
        TICKET = "ticket", _("New ticket")
        FOLLOW_UP = "follow_up", _("Follow-up")
        QUARANTINED = "quarantined", _("Quarantined")

    received_at = models.DateTimeField(_("received"), db_index=True)
    source = models.CharField(_("source"), max_length=200, blank=True)
    raw = models.BinaryField(_("raw message"))
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    truncated = models.BooleanField(
        _("truncated"),
        default=False,
        help_text=_("Larger than the size limit: only the header was kept."),
    )
    message_id = models.CharField(_("Message-ID"), max_length=500, blank=True, db_index=True)
    # The Message-ID, or a digest of the bytes if the mail has none: a second
    # delivery of the same mail (MTA retry, IMAP poll after a crash) finds the first.
    dedupe_key = models.CharField(_("duplicate key"), max_length=80, unique=True)
    sender = models.CharField(_("sender"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=Outcome.choices, default=Outcome.PENDING
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_mails",
    )
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbound e-mail")
        verbose_name_plural = _("inbound e-mails")
        ordering = ("-received_at",)
        indexes: ClassVar = [models.Index(fields=["outcome", "received_at"])]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M} {self.sender} {self.subject}"


class AutoReply(models.Model):
    """An automatic acknowledgement we sent: at most one per sender and ticket a day.

    RFC 3834 §2 forbids responses to a null return path and asks responders
    not to answer the same sender more than once within a period of days; the
    log turns the limit into a query.
    """

    sender = models.CharField(_("recipient"), max_length=254)
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="auto_replies"
    )
    sent_at = models.DateTimeField(_("sent"))
    message_id = models.CharField(_("Message-ID"), max_length=500, db_index=True)

    class Meta:
        verbose_name = _("automatic reply")
        verbose_name_plural = _("automatic replies")
        ordering = ("-sent_at",)
        indexes: ClassVar = [models.Index(fields=["sender", "ticket", "sent_at"])]

    def __str__(self) -> str:
        return f"{self.ticket.number} → {self.sender} {self.sent_at:%Y-%m-%d %H:%M}"


class TicketEvent(models.Model):
    """Something that happened to a ticket besides a message: assignment, state,
    priority, milestones, scope; shown in the thread as a system line."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(_("time"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=30)
    old_value = models.CharField(_("before"), max_length=200, blank=True)
    new_value = models.CharField(_("after"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ("ticket", "at", "id")

    def __str__(self) -> str:
        return f"{self.ticket.number} {self.kind} {self.old_value} → {self.new_value}"


class RunningTimer(models.Model):
    """A started stopwatch of one person on one ticket; stopping it records a time entry."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="timers"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    work_type = models.CharField(_("work type"), max_length=50)
    started_at = models.DateTimeField(_("started"))

    class Meta:
        verbose_name = _("running timer")
        verbose_name_plural = _("running timers")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["ticket", "user"], name="one_timer_per_user_and_ticket")
        ]

    def __str__(self) -> str:
        return f"{self.ticket.number} {self.user} {self.started_at:%Y-%m-%d %H:%M}"


def attachment_path(instance: Attachment, filename: str) -> str:
    """A random name under MEDIA_ROOT: never the client's file name on disk
    (path traversal, odd characters, names that reveal content)."""
    import secrets  # noqa: PLC0415 - only needed here

    at = instance.uploaded_at
    return f"helpdesk/attachments/{at:%Y/%m}/{secrets.token_hex(16)}"


class Attachment(models.Model):
    """A file attached to a ticket (from the back office, the portal or inbound mail)."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="attachments"
    )
    message = models.ForeignKey(
        Message,
        verbose_name=_("message"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attachments",
    )
    inbound_mail = models.ForeignKey(
        InboundMail,
        verbose_name=_("inbound e-mail"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=150)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    internal = models.BooleanField(
        _("internal"), default=False, help_text=_("Only staff see it (attached to a note).")
    )

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ("ticket", "uploaded_at", "id")

    def __str__(self) -> str:
        return f"{self.ticket.number} {self.name}"


class EstimateQuerySet(models.QuerySet["Estimate"]):
    """Estimates as the customer may see them: never a draft."""

    def visible(self) -> EstimateQuerySet:
        return self.exclude(state=Estimate.State.DRAFT)

    def pending(self) -> EstimateQuerySet:
        """Sent and waiting for the customer's answer."""
        return self.filter(state=Estimate.State.SENT)


class Estimate(models.Model):
    """An offer for paid work on a ticket, and the customer's answer as proof.

    Seed 003 §1: paid support "wird nach Rücksprache mit dem Kunden ...
    berechnet"; seed 002 §1.6: "A Webosa representative will then indicate the
    proposed actions and any associated costs." Seed 001 §4: only "die zur
    Beauftragung von Zusatzleistungen berechtigten Personen" may order it.
    ``text`` is frozen when the estimate is sent: it is what the customer
    approves, word for word, and ``text_sha256`` proves it was not changed.
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Via(models.TextChoices):
        PORTAL = "portal", _("Customer portal")
        EMAIL = "email", _("E-mail reply")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="estimates"
    )
    reference = models.CharField(_("reference"), max_length=60, unique=True)
    description = models.TextField(_("work to be done"))
    work_type = models.CharField(_("work type"), max_length=50)
    effort = models.DurationField(_("expected effort"))
    amount = models.DecimalField(_("expected amount (net)"), max_digits=10, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    valid_until = models.DateTimeField(_("valid until"))
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.DRAFT, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    sent_to = models.JSONField(_("sent to"), default=list, blank=True)
    sent_message = models.ForeignKey(
        Message,
        verbose_name=_("sent as"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    text = models.TextField(_("text sent"), blank=True)
    text_sha256 = models.CharField(_("SHA-256 of the text"), max_length=64, blank=True)
    decided_at = models.DateTimeField(_("answered"), null=True, blank=True)
    decided_via = models.CharField(
        _("answered via"), max_length=20, choices=Via.choices, blank=True
    )
    decided_by_contact = models.ForeignKey(
        "contracts.Contact",
        verbose_name=_("answered by (contact)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by (portal user)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_email = models.EmailField(_("answered from address"), blank=True)
    decision_message = models.ForeignKey(
        Message,
        verbose_name=_("answer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decision_evidence = models.JSONField(
        _("evidence"),
        default=dict,
        blank=True,
        help_text=_("Login, address, Message-ID, authentication result: what proves the answer."),
    )
    approved_text = models.TextField(_("text approved"), blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    objects = EstimateQuerySet.as_manager()

    class Meta:
        verbose_name = _("estimate")
        verbose_name_plural = _("estimates")
        ordering = ("-created_at", "-id")
        indexes: ClassVar = [models.Index(fields=["state", "valid_until"])]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="estimate_amount_not_negative"),
            models.CheckConstraint(
                condition=~Q(state="approved") | (Q(decided_at__isnull=False) & ~Q(text="")),
                name="estimate_approval_is_recorded",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class SlaNotice(models.Model):
    """A warning before, or an escalation at, an SLA breach: one per ticket,
    target, priority and kind, so the alarm goes out exactly once.

    The priority is part of the key because a new priority is a new deadline
    (seed 002 §2: the targets differ per priority); a waiting period only moves
    the same deadline and warns nobody twice.
    """

    class Kind(models.TextChoices):
        WARNING = "warning", _("Warning")
        BREACH = "breach", _("Breach")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="sla_notices"
    )
    target = models.CharField(_("target"), max_length=50)
    priority = models.CharField(_("priority"), max_length=50)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    deadline = models.DateTimeField(_("deadline"))
    created_at = models.DateTimeField(_("time"))
    alert = models.ForeignKey(
        "alerting.Alert",
        verbose_name=_("alert"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("SLA notice")
        verbose_name_plural = _("SLA notices")
        ordering = ("-created_at",)
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["ticket", "target", "priority", "kind"], name="one_sla_notice_per_deadline"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket.number} {self.target} {self.kind}"


@receiver(post_delete, sender=Attachment)
def _remove_the_file(sender: type[Attachment], instance: Attachment, **kwargs: Any) -> None:
    """A deleted attachment (or its deleted ticket) takes its file along, once the
    deletion is committed: a rolled-back deletion keeps both."""
    name, storage = instance.file.name, instance.file.storage
    if name:
        transaction.on_commit(lambda: storage.delete(name))
