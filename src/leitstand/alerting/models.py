"""Alerting: channels, the notification outbox, on-call schedules and escalation.

The input is :class:`~leitstand.monitoring.models.CheckEvent`; the output is
:class:`Notification` rows, the durable outbox: written in the same
transaction as the event that causes them, claimed by workers under a lease,
sent, recorded. Seed 001 §5.2: proactive work is only possible with "aktiver
Alarmierung an den Kunden per E-Mail und/oder SMS".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leitstand.alerting import oncall
from leitstand.alerting.channels import ConfigError, registry


class Channel(models.Model):
    """One way to reach one person: a customer contact or a staff user.

    A person's channels are tried in ``position`` order: a notification goes
    to the first enabled one, and falls through to the next when it fails for
    good (an address that bounces with 550, a webhook answering 410, or 24
    hours without success).
    """

    kind = models.CharField(_("kind"), max_length=20)
    name = models.CharField(_("name"), max_length=100, blank=True)
    config = models.JSONField(_("settings"), default=dict, blank=True)
    contact = models.ForeignKey(
        "contracts.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alert_channels",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alert_channels",
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("notification channel")
        verbose_name_plural = _("notification channels")
        ordering = ("position", "id")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(contact__isnull=True, user__isnull=False)
                | Q(contact__isnull=False, user__isnull=True),
                name="channel_has_one_owner",
            )
        ]

    def __str__(self) -> str:
        return self.name or f"{self.kind} #{self.pk}"

    def clean(self) -> None:
        try:
            registry.build(self.kind, self.config)
        except ConfigError as error:
            raise ValidationError({"config": str(error)}) from None

    def owner_channels(self) -> models.QuerySet[Channel]:
        """All enabled channels of the same person, in order."""
        if self.contact_id is not None:
            owner = Q(contact_id=self.contact_id)
        else:
            owner = Q(user_id=self.user_id)
        return Channel.objects.filter(owner, enabled=True)


class OnCallSchedule(models.Model):
    """The provider's on-call plan: an office-hours and an out-of-hours rotation.

    Seed 004: "Erreichbarkeit außerhalb der üblichen Bürozeiten". The calendar
    tells office hours from out of hours (holidays count as out of hours);
    without a calendar the office rotation covers the whole week.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    calendar = models.ForeignKey(
        "sla.Calendar",
        verbose_name=_("business calendar"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Berlin")
    handover_at = models.DateTimeField(
        _("first handover"),
        help_text=_("Rotations hand over at this local time, every rotation length."),
    )
    rotation_length = models.DurationField(_("rotation length"), default=timedelta(weeks=1))

    class Meta:
        verbose_name = _("on-call schedule")
        verbose_name_plural = _("on-call schedules")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def to_rule(self) -> oncall.Schedule:
        """The pure schedule for :func:`leitstand.alerting.oncall.on_call`."""
        zone = ZoneInfo(self.timezone)
        members: dict[oncall.Shift, list[int]] = {shift: [] for shift in oncall.Shift}
        for member in self.members.all():
            members[oncall.Shift(member.shift)].append(member.user_id)
        rotations = {
            shift: oncall.Rotation(tuple(users), self.handover_at, zone, self.rotation_length)
            for shift, users in members.items()
        }
        overrides = [
            oncall.Override(
                o.user_id, o.starts_at, o.ends_at, oncall.Shift(o.shift) if o.shift else None
            )
            for o in self.overrides.all()
        ]
        calendar = self.calendar.to_rule() if self.calendar else None
        return oncall.Schedule(rotations, overrides, calendar)

    def on_call(self, instant: datetime) -> oncall.OnCall:
        """Who is on call at ``instant``."""
        return oncall.on_call(self.to_rule(), instant)


SHIFT_CHOICES = [
    (oncall.Shift.OFFICE.value, _("office hours")),
    (oncall.Shift.OUT_OF_HOURS.value, _("out of hours")),
]


class OnCallMember(models.Model):
    """A staff user's place in one rotation of a schedule."""

    schedule = models.ForeignKey(
        OnCallSchedule, verbose_name=_("schedule"), on_delete=models.CASCADE, related_name="members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE
    )
    shift = models.CharField(_("shift"), max_length=20, choices=SHIFT_CHOICES)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("on-call member")
        verbose_name_plural = _("on-call members")
        ordering = ("schedule", "shift", "position", "id")

    def __str__(self) -> str:
        return f"{self.schedule}: {self.user} ({self.shift})"


class OnCallOverride(models.Model):
    """A staff user covering a period instead of the rotation (holiday cover, a swap)."""

    schedule = models.ForeignKey(
        OnCallSchedule,
        verbose_name=_("schedule"),
        on_delete=models.CASCADE,
        related_name="overrides",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    shift = models.CharField(
        _("shift"),
        max_length=20,
        choices=SHIFT_CHOICES,
        blank=True,
        help_text=_("Empty: both shifts."),
    )

    class Meta:
        verbose_name = _("on-call override")
        verbose_name_plural = _("on-call overrides")
        ordering = ("schedule", "starts_at")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="override_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.schedule}: {self.user} {self.starts_at:%Y-%m-%d %H:%M}"


class EscalationPolicy(models.Model):
    """Whom to tell, level by level, while an alert is not acknowledged.

    Level 1 is usually told at once, level 2 after N minutes without an
    acknowledgement, and so on. ``renotify_every`` repeats the alarm to the
    current level while nobody acknowledges.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_default = models.BooleanField(_("default"), default=False)
    renotify_every = models.DurationField(_("repeat every"), null=True, blank=True)

    class Meta:
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")
        ordering = ("name",)
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_policy"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def delays(self) -> list[timedelta]:
        """The delay of each level after the alert opened, level 1 first."""
        return [level.delay for level in self.levels.all()]


class EscalationLevel(models.Model):
    """One level: whoever is on call in ``schedule`` and/or one named ``user``."""

    policy = models.ForeignKey(
        EscalationPolicy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="levels"
    )
    number = models.PositiveSmallIntegerField(_("level"))
    delay = models.DurationField(_("after"), default=timedelta(0))
    schedule = models.ForeignKey(
        OnCallSchedule,
        verbose_name=_("schedule"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )

    class Meta:
        verbose_name = _("escalation level")
        verbose_name_plural = _("escalation levels")
        ordering = ("policy", "number")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["policy", "number"], name="unique_escalation_level")
        ]

    def __str__(self) -> str:
        return f"{self.policy} {self.number}"


class Alert(models.Model):
    """One incident: opened by a problem event, one per group (an asset), until resolved.

    Grouping is what makes one host down one alarm, not one per service: the
    services' events join the open alert of their asset.
    """

    asset = models.ForeignKey(
        "contracts.Asset", verbose_name=_("asset"), on_delete=models.CASCADE, related_name="alerts"
    )
    group_key = models.CharField(_("group"), max_length=100)
    opened_by = models.ForeignKey(
        "monitoring.CheckEvent",
        verbose_name=_("opened by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("opened"))
    summary = models.CharField(_("summary"), max_length=300)
    policy = models.ForeignKey(
        EscalationPolicy,
        verbose_name=_("escalation policy"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    next_escalation_at = models.DateTimeField(_("next escalation"), null=True, blank=True)
    next_renotify_at = models.DateTimeField(_("next reminder"), null=True, blank=True)
    renotify_count = models.PositiveIntegerField(_("reminders sent"), default=0)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ("-opened_at",)
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["group_key"],
                condition=Q(resolved_at__isnull=True),
                name="one_open_alert_per_group",
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["next_escalation_at"]),
            models.Index(fields=["next_renotify_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.asset}: {self.summary}"


class ProcessedEvent(models.Model):
    """Marks a CheckEvent as handled by alerting, and what came of it.

    A row of its own rather than a flag on CheckEvent: monitoring owns that
    table, and inserting this row is how a worker claims an event (the primary
    key makes a second claim fail). Suppressed events keep their record here.
    """

    class Outcome(models.TextChoices):
        OPENED = "opened", _("alert opened")
        GROUPED = "grouped", _("added to an open alert")
        RESOLVED = "resolved", _("alert resolved")
        MAINTENANCE = "maintenance", _("silenced: announced maintenance")
        DEPENDENCY = "dependency", _("silenced: a dependency is down")
        FLAPPING = "flapping", _("silenced: flapping")
        IGNORED = "ignored", _("nothing to do")

    event = models.OneToOneField(
        "monitoring.CheckEvent",
        verbose_name=_("event"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="alerting",
    )
    processed_at = models.DateTimeField(_("processed"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    alert = models.ForeignKey(
        Alert,
        verbose_name=_("alert"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
    )

    class Meta:
        verbose_name = _("processed event")
        verbose_name_plural = _("processed events")

    def __str__(self) -> str:
        return f"{self.event_id}: {self.outcome}"


class Notification(models.Model):
    """The outbox: one message to one channel, with its delivery state.

    Workers claim a row by a conditional UPDATE that sets a lease
    (``claimed_by``, ``claimed_until``); a worker that dies mid-send leaves a
    lease that expires, and the next worker sends again with the same
    ``idempotency_key``: at most one duplicate, never a loss.
    """

    class Kind(models.TextChoices):
        ALARM = "alarm", _("alarm")
        RENOTIFY = "renotify", _("reminder")
        RECOVERY = "recovery", _("recovery")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    alert = models.ForeignKey(
        Alert, verbose_name=_("alert"), on_delete=models.CASCADE, related_name="notifications"
    )
    channel = models.ForeignKey(
        Channel, verbose_name=_("channel"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    level = models.PositiveSmallIntegerField(
        _("escalation level"), default=0, help_text=_("0: the customer's own contacts.")
    )
    round = models.PositiveIntegerField(
        _("round"), default=0, help_text=_("Which reminder this is; for alarms the level.")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    created_at = models.DateTimeField(_("queued"))
    next_attempt_at = models.DateTimeField(_("next attempt"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    claimed_by = models.CharField(_("claimed by"), max_length=100, blank=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ("created_at", "id")
        indexes: ClassVar = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["status", "claimed_until"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.alert_id} -> {self.channel} ({self.status})"
