"""Operational policies from the catalog: intervention, restarts, process limits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leitstand.core.models import CatalogEntry
from leitstand.operations.intervention import InterventionRule as InterventionRuleRule
from leitstand.operations.process_policy import ProcessException as ProcessExceptionRule
from leitstand.operations.process_policy import ProcessPolicy as ProcessPolicyRule
from leitstand.operations.restart_policy import RestartPolicy as RestartPolicyRule


def _td(seconds: int | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)


def process_rule_from_fields(
    fields: Mapping[str, Any], exceptions: Iterable[Mapping[str, Any]]
) -> ProcessPolicyRule:
    """Build the pure process rule from stored values (shared with the catalog validator)."""
    return ProcessPolicyRule(
        max_runtime=_td(fields["max_runtime_seconds"]),
        max_rss=fields["max_rss_bytes"],
        exceptions=tuple(
            ProcessExceptionRule(
                command=e["command"],
                max_runtime=_td(e["max_runtime_seconds"]),
                max_rss=e["max_rss_bytes"],
            )
            for e in exceptions
        ),
        prohibited=frozenset(fields["prohibited"]),
    )


class InterventionRule(CatalogEntry):
    """Seed 001 §5.2: the provider acts on its own "wenn mehr als 3 Tage nach Alarm
    oder Anfrage ohne Antwort oder Anweisung durch den Kunden vergehen oder sich
    Gefahr im Verzug befindet".
    """

    no_answer_for_seconds = models.PositiveIntegerField(_("no answer for (seconds)"))

    class Meta(CatalogEntry.Meta):
        verbose_name = _("intervention rule")
        verbose_name_plural = _("intervention rules")

    def to_rule(self) -> InterventionRuleRule:
        """The pure intervention rule."""
        return InterventionRuleRule(no_answer_for=timedelta(seconds=self.no_answer_for_seconds))


class RestartPolicy(CatalogEntry):
    """Seed 001 §5.2: restart after the heartbeat is lost and "für einen Zeitraum von
    120s keinerlei Netzwerk- und / oder Festplattenaktivität", "höchstens 3x
    hintereinander".
    """

    silence_seconds = models.PositiveIntegerField(_("silence (seconds)"))
    max_consecutive = models.PositiveIntegerField(_("restarts in a row at most"))

    class Meta(CatalogEntry.Meta):
        verbose_name = _("restart policy")
        verbose_name_plural = _("restart policies")

    def to_rule(self) -> RestartPolicyRule:
        """The pure restart rule."""
        return RestartPolicyRule(
            silence=timedelta(seconds=self.silence_seconds), max_consecutive=self.max_consecutive
        )


class ProcessPolicy(CatalogEntry):
    """Seed 000 IX / 003 §9: processes "exhibiting excessive runtime and/or RAM
    consumption" are terminated; exceptions may be authorised; mining is prohibited
    (003 §13).
    """

    max_runtime_seconds = models.PositiveIntegerField(_("max runtime (seconds)"), null=True)
    max_rss_bytes = models.PositiveBigIntegerField(_("max memory (bytes)"), null=True)
    prohibited = models.JSONField(_("prohibited commands"), default=list, blank=True)

    class Meta(CatalogEntry.Meta):
        verbose_name = _("process policy")
        verbose_name_plural = _("process policies")

    def to_rule(self) -> ProcessPolicyRule:
        """The pure process rule, shared with the agent."""
        return process_rule_from_fields(
            {
                "max_runtime_seconds": self.max_runtime_seconds,
                "max_rss_bytes": self.max_rss_bytes,
                "prohibited": self.prohibited,
            },
            [
                {
                    "command": e.command,
                    "max_runtime_seconds": e.max_runtime_seconds,
                    "max_rss_bytes": e.max_rss_bytes,
                }
                for e in self.exceptions.all()
            ],
        )


class ProcessException(models.Model):
    """An approved exception: raises the limits it names for one command."""

    policy = models.ForeignKey(
        ProcessPolicy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="exceptions"
    )
    command = models.CharField(_("command"), max_length=200)
    max_runtime_seconds = models.PositiveIntegerField(
        _("max runtime (seconds)"), null=True, blank=True
    )
    max_rss_bytes = models.PositiveBigIntegerField(_("max memory (bytes)"), null=True, blank=True)

    class Meta:
        verbose_name = _("process exception")
        verbose_name_plural = _("process exceptions")
        ordering = ("policy", "command")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["policy", "command"], name="unique_exception_command")
        ]

    def __str__(self) -> str:
        return f"{self.policy.name}: {self.command}"


class Agent(models.Model):
    """The enrolled agent on one managed asset, and its credentials.

    Only a SHA-256 hash of the host secret is stored: the secret is 256 random
    bits, so a fast hash is as good as a slow one and keeps authentication
    cheap. During a rotation the previous hash stays valid until the agent
    first uses the new secret. ``action_key`` signs remote actions (HMAC); the
    agent holds the same key.
    """

    asset = models.OneToOneField(
        "contracts.Asset", verbose_name=_("asset"), on_delete=models.CASCADE, related_name="agent"
    )
    hostname = models.CharField(_("host name"), max_length=255, blank=True)
    machine_id = models.CharField(_("machine ID"), max_length=64, blank=True)
    version = models.CharField(_("agent version"), max_length=32, blank=True)
    secret_hash = models.CharField(_("secret (hash)"), max_length=64)
    pending_secret_hash = models.CharField(_("new secret (hash)"), max_length=64, blank=True)
    action_key = models.CharField(_("action key"), max_length=64)
    enrolled_at = models.DateTimeField(_("enrolled"))
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    last_seq = models.PositiveBigIntegerField(_("last report number"), default=0)
    rate_window_start = models.DateTimeField(null=True, blank=True, editable=False)
    rate_window_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ("asset",)

    def __str__(self) -> str:
        return f"{self.asset} ({self.hostname or '?'})"


class EnrollmentToken(models.Model):
    """A single-use token that enrolls an agent for one asset; it expires (24 h default)."""

    asset = models.ForeignKey(
        "contracts.Asset",
        verbose_name=_("asset"),
        on_delete=models.CASCADE,
        related_name="enrollment_tokens",
    )
    token_hash = models.CharField(_("token (hash)"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("enrollment token")
        verbose_name_plural = _("enrollment tokens")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.asset} until {self.expires_at:%Y-%m-%d %H:%M}"


class AgentReport(models.Model):
    """One report as the agent sent it; ``(agent, seq)`` makes replays idempotent."""

    agent = models.ForeignKey(
        Agent, verbose_name=_("agent"), on_delete=models.CASCADE, related_name="reports"
    )
    seq = models.PositiveBigIntegerField(_("report number"))
    collected_at = models.DateTimeField(_("collected"))
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    body = models.JSONField(_("report"))

    class Meta:
        verbose_name = _("agent report")
        verbose_name_plural = _("agent reports")
        ordering = ("agent", "-seq")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["agent", "seq"], name="unique_report_seq")
        ]
        indexes: ClassVar = [models.Index(fields=["agent", "-collected_at"])]

    def __str__(self) -> str:
        return f"{self.agent} #{self.seq}"


class HostMetric(models.Model):
    """One numeric sample from an agent report, for threshold checks and graphs."""

    agent = models.ForeignKey(
        Agent, verbose_name=_("agent"), on_delete=models.CASCADE, related_name="metrics"
    )
    name = models.CharField(_("metric"), max_length=100)
    at = models.DateTimeField(_("time"))
    value = models.FloatField(_("value"))

    class Meta:
        verbose_name = _("host metric")
        verbose_name_plural = _("host metrics")
        ordering = ("agent", "name", "-at")
        indexes: ClassVar = [models.Index(fields=["agent", "name", "-at"])]

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class QuarantinedReport(models.Model):
    """A report the server could not accept, kept with the reason instead of lost."""

    agent = models.ForeignKey(
        Agent,
        verbose_name=_("agent"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="quarantined",
    )
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    reason = models.CharField(_("reason"), max_length=500)
    body = models.TextField(_("body as received"))

    class Meta:
        verbose_name = _("quarantined report")
        verbose_name_plural = _("quarantined reports")
        ordering = ("-received_at",)

    def __str__(self) -> str:
        return self.reason


class RemoteAction(models.Model):
    """An action for one agent, signed when it is handed out; the audit log of remote work.

    Seed 004 (Rufbereitschaft): "Überprüfen auf »hängengebliebene Prozesse«, ggfs.
    manuelles Beenden dieser Prozesse • Kontrollierter Neustart von Webserver,
    Applikationsserver und Datenbankserver".
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent to the agent")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        REJECTED = "rejected", _("rejected by the agent")
        EXPIRED = "expired", _("expired")

    agent = models.ForeignKey(
        Agent, verbose_name=_("agent"), on_delete=models.CASCADE, related_name="actions"
    )
    type = models.CharField(_("action"), max_length=50)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    nonce = models.CharField(_("nonce"), max_length=64, unique=True)
    expires_at = models.DateTimeField(_("expires"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    output = models.TextField(_("output"), blank=True)

    class Meta:
        verbose_name = _("remote action")
        verbose_name_plural = _("remote actions")
        ordering = ("-created_at",)
        indexes: ClassVar = [models.Index(fields=["agent", "status"])]

    def __str__(self) -> str:
        return f"{self.type} on {self.agent}"


class LicenceUsage(models.Model):
    """How many user accounts exist and how many users were connected at one moment.

    Seed 000 VI: "Depending on the chosen service model, the number of user
    accounts and the number of simultaneously connected users is limited. The
    permissible quantity is determined by the booked service type." The agent
    counts both on the server (report section ``licences``); staff may enter a
    count by hand (an audit, or a service the agent cannot see into). Usage is
    a time series rather than a counter on the asset, so that the portal can
    show the peak of concurrent users over a period, not just the last sample.
    """

    class Source(models.TextChoices):
        AGENT = "agent", _("agent report")
        STAFF = "staff", _("entered by staff")

    asset = models.ForeignKey(
        "contracts.Asset",
        verbose_name=_("asset"),
        on_delete=models.CASCADE,
        related_name="licence_usage",
    )
    measured_at = models.DateTimeField(_("measured"))
    user_accounts = models.PositiveIntegerField(_("user accounts"), null=True, blank=True)
    concurrent_users = models.PositiveIntegerField(_("concurrent users"), null=True, blank=True)
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.STAFF
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("licence usage")
        verbose_name_plural = _("licence usage")
        ordering = ("asset", "-measured_at")
        indexes: ClassVar = [models.Index(fields=["asset", "-measured_at"])]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(user_accounts__isnull=False) | Q(concurrent_users__isnull=False),
                name="licence_usage_counts_something",
            )
        ]

    def __str__(self) -> str:
        return f"{self.asset}: {self.user_accounts}/{self.concurrent_users}"


class ProcessExceptionRequest(models.Model):
    """A customer's request for an exception to the process limits on one asset.

    Seed 000 IX: "Exceptions may be authorised by system administration. If
    the Customer requests exception rules that could compromise system
    stability, these must be confirmed in writing. There is no entitlement to
    the implementation of such changes. If the stable operation of the servers
    or network is impacted, IT-Hafen reserves the right to adjust or revoke
    these exception rules." Seed 003 §9 says the same for cloudflux.

    The request is kept with the change-request ticket it opened; staff's
    written confirmation (who, when, the text, how long it is valid) is
    recorded here, and only a confirmed request inside its validity reaches
    the agent's policy (:func:`leitstand.operations.escalation.policy_document`).
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")
        CONFIRMED = "confirmed", _("confirmed in writing")
        DECLINED = "declined", _("declined")
        REVOKED = "revoked", _("revoked")

    asset = models.ForeignKey(
        "contracts.Asset",
        verbose_name=_("asset"),
        on_delete=models.CASCADE,
        related_name="process_exception_requests",
    )
    command = models.CharField(_("command"), max_length=200)
    max_runtime_seconds = models.PositiveIntegerField(
        _("max runtime (seconds)"), null=True, blank=True
    )
    max_rss_bytes = models.PositiveBigIntegerField(_("max memory (bytes)"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested"))
    ticket = models.ForeignKey(
        "helpdesk.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_text = models.TextField(
        _("written confirmation or reason"),
        blank=True,
        help_text=_("The text the customer receives: what is allowed, and on which conditions."),
    )
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("process exception request")
        verbose_name_plural = _("process exception requests")
        ordering = ("-requested_at",)
        indexes: ClassVar = [models.Index(fields=["asset", "status"])]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(max_runtime_seconds__isnull=False) | Q(max_rss_bytes__isnull=False),
                name="process_exception_request_names_a_limit",
            ),
            models.CheckConstraint(
                condition=~Q(status="confirmed")
                | (
                    Q(decided_by__isnull=False)
                    & Q(decided_at__isnull=False)
                    & Q(valid_from__isnull=False)
                    & ~Q(decision_text="")
                ),
                name="confirmed_exception_is_in_writing",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gt=models.F("valid_from")),
                name="exception_valid_until_after_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.asset}: {self.command} ({self.status})"

    def in_force(self, at: datetime) -> bool:
        """Confirmed, and ``at`` lies in [valid_from, valid_until)."""
        return (
            self.status == self.Status.CONFIRMED
            and self.valid_from is not None
            and self.valid_from <= at
            and (self.valid_until is None or at < self.valid_until)
        )
