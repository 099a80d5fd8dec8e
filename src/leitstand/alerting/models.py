"""Alerting: channels, the notification outbox, on-call schedules and escalation.

The input is :class:`~leitstand.monitoring.models.CheckEvent`; the output is
:class:`Notification` rows, the durable outbox: written in the same
transaction as the event that causes them, claimed by workers under a lease,
sent, recorded. Seed 001 §5.2: proactive work is only possible with "aktiver
Alarmierung an den Kunden per E-Mail und/oder SMS".
"""

from __future__ import annotations

import hashlib
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
    priority = models.CharField(_("priority"), max_length=10, blank=True)
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
    acknowledged_via = models.CharField(
        _("acknowledged via"),
        max_length=20,
        blank=True,
        choices=[
            ("link", _("e-mail link")),
            ("back office", _("back office")),
            ("sms", _("SMS reply")),
            ("admin", _("administration")),
        ],
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


# -- inbound alarms -----------------------------------------------------------------


class InboundSource(models.Model):
    """A system of the provider that sends alarms in: an Alertmanager, a script, a SaaS.

    Issue 5 item 5: "Inbound alarms from systems the provider already runs
    [...] each authenticated, feeding the same event pipeline". Every source
    has its own bearer token; only its SHA-256 is stored, so a copy of the
    database does not let anyone send alarms. The source belongs to a
    customer and names the asset its alarms land on unless a label names
    another asset of the same customer.
    """

    class Kind(models.TextChoices):
        ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager")
        GENERIC = "generic", _("generic JSON")

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(
        _("URL name"),
        max_length=50,
        unique=True,
        help_text=_("The hook's address is /hooks/inbound/<URL name>/."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    customer = models.ForeignKey(
        "contracts.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="inbound_sources",
    )
    asset = models.ForeignKey(
        "contracts.Asset",
        verbose_name=_("asset"),
        on_delete=models.CASCADE,
        related_name="inbound_sources",
        help_text=_("Where an alarm lands unless its asset label names another asset."),
    )
    asset_label = models.CharField(
        _("asset label"),
        max_length=100,
        blank=True,
        default="leitstand_asset",
        help_text=_("Label whose value is the name of the customer's asset an alarm is about."),
    )
    priority_label = models.CharField(_("priority label"), max_length=100, default="severity")
    priority_map = models.JSONField(
        _("priority by label value"),
        default=dict,
        blank=True,
        help_text=_(
            'E.g. {"critical": "P1", "warning": "P2", "info": "none"}; "none" records '
            "the alarm without telling anyone."
        ),
    )
    default_priority = models.CharField(_("default priority"), max_length=10, default="P1")
    token_hash = models.CharField(_("token hash"), max_length=64, editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    last_received_at = models.DateTimeField(_("last received"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbound alarm source")
        verbose_name_plural = _("inbound alarm sources")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (
            self.asset_id is not None
            and self.customer_id is not None
            and self.asset.customer_id != self.customer_id
        ):
            raise ValidationError({"asset": _("The asset must belong to the customer.")})
        for value in [self.default_priority, *dict(self.priority_map or {}).values()]:
            if value not in PRIORITIES:
                raise ValidationError(
                    {
                        "priority_map": _("Priorities are P1, P2 or none, not %(value)s.")
                        % {"value": value}
                    }
                )

    def set_token(self, token: str) -> None:
        """Store the hash of ``token``; the token itself is shown once and never kept."""
        self.token_hash = hash_token(token)

    def priority_for(self, labels: dict[str, str]) -> str:
        """P1, P2 or none for an alarm with ``labels``."""
        value = labels.get(self.priority_label, "")
        mapped = dict(self.priority_map or {}).get(value)
        return str(mapped) if mapped in PRIORITIES else self.default_priority


PRIORITIES = ("P1", "P2", "none")


def hash_token(token: str) -> str:
    """SHA-256 hex: tokens are long and random, so no salt or slow hash is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


class ExternalAlert(models.Model):
    """One alarm of an inbound source, keyed by its fingerprint, and its current state.

    Alertmanager repeats every firing alert on each group interval; the
    fingerprint makes that repetition an update, not a new alarm. A resolved
    fingerprint that fires again (a new ``startsAt``) is a new problem.
    """

    class State(models.TextChoices):
        FIRING = "firing", _("firing")
        RESOLVED = "resolved", _("resolved")

    source = models.ForeignKey(
        InboundSource, verbose_name=_("source"), on_delete=models.CASCADE, related_name="alerts"
    )
    fingerprint = models.CharField(_("fingerprint"), max_length=200)
    asset = models.ForeignKey(
        "contracts.Asset",
        verbose_name=_("asset"),
        on_delete=models.CASCADE,
        related_name="external_alerts",
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    name = models.CharField(_("name"), max_length=200)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    priority = models.CharField(_("priority"), max_length=10)
    labels = models.JSONField(_("labels"), default=dict)
    annotations = models.JSONField(_("annotations"), default=dict, blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    first_received_at = models.DateTimeField(_("first received"))
    last_received_at = models.DateTimeField(_("last received"))
    alert = models.ForeignKey(
        Alert,
        verbose_name=_("alert"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="external",
    )

    class Meta:
        verbose_name = _("external alarm")
        verbose_name_plural = _("external alarms")
        ordering = ("-last_received_at",)
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["source", "fingerprint"], name="unique_external_fingerprint"
            )
        ]
        indexes: ClassVar = [models.Index(fields=["asset", "state"])]

    def __str__(self) -> str:
        return f"{self.source}: {self.name} ({self.state})"


class ExternalEvent(models.Model):
    """A change of an external alarm (it fired, or it resolved) and what alerting made of it.

    The counterpart of a CheckEvent with its ProcessedEvent: the record stays
    even when maintenance silenced the alarm.
    """

    external = models.ForeignKey(
        ExternalAlert,
        verbose_name=_("external alarm"),
        on_delete=models.CASCADE,
        related_name="events",
    )
    at = models.DateTimeField(_("time"))
    new_state = models.CharField(_("new state"), max_length=10, choices=ExternalAlert.State.choices)
    outcome = models.CharField(_("outcome"), max_length=20, choices=ProcessedEvent.Outcome.choices)
    alert = models.ForeignKey(
        Alert,
        verbose_name=_("alert"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="external_events",
    )

    class Meta:
        verbose_name = _("external alarm event")
        verbose_name_plural = _("external alarm events")
        ordering = ("-at", "-id")

    def __str__(self) -> str:
        return f"{self.external_id} {self.new_state}: {self.outcome}"


class QuarantinedPayload(models.Model):
    """An inbound request that could not be used, kept as received for a person to look at.

    Nothing sent in is ever silently dropped: a payload in a format we did not
    expect (a new Alertmanager version, a broken script) answers 400 and waits
    here, so the alarm in it can still be read.
    """

    source = models.ForeignKey(
        InboundSource,
        verbose_name=_("source"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="quarantine",
    )
    received_at = models.DateTimeField(_("received"))
    path = models.CharField(_("address"), max_length=300)
    content_type = models.CharField(_("content type"), max_length=200, blank=True)
    remote_addr = models.CharField(_("sender address"), max_length=64, blank=True)
    error = models.CharField(_("error"), max_length=500)
    body = models.BinaryField(_("body"))
    body_size = models.PositiveIntegerField(_("size in bytes"))
    truncated = models.BooleanField(_("truncated"), default=False)

    class Meta:
        verbose_name = _("quarantined payload")
        verbose_name_plural = _("quarantined payloads")
        ordering = ("-received_at",)

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.path}: {self.error[:60]}"

    def text(self) -> str:
        """The body as text, for reading in the admin."""
        return bytes(self.body).decode(errors="replace")


class SmsReply(models.Model):
    """An inbound SMS to the acknowledgement hook and what became of it (accepted or why not)."""

    class Outcome(models.TextChoices):
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        ALREADY = "already", _("already acknowledged or resolved")
        BAD_SIGNATURE = "bad_signature", _("refused: bad signature")
        UNKNOWN_ACCOUNT = "unknown_account", _("refused: unknown account")
        NO_CODE = "no_code", _("refused: no alert code")
        UNKNOWN_CODE = "unknown_code", _("refused: unknown alert code")
        UNKNOWN_NUMBER = "unknown_number", _("refused: number not notified for this alert")

    received_at = models.DateTimeField(_("received"))
    gateway = models.CharField(_("gateway"), max_length=20)
    from_number = models.CharField(_("from"), max_length=40, blank=True)
    body = models.CharField(_("text"), max_length=1600, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    alert = models.ForeignKey(
        Alert,
        verbose_name=_("alert"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sms_replies",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("SMS reply")
        verbose_name_plural = _("SMS replies")
        ordering = ("-received_at",)

    def __str__(self) -> str:
        return f"{self.from_number}: {self.outcome}"
