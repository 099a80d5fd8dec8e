"""Checks, their state, results, events and rollups.

``Check`` is configuration (what staff edit); ``CheckStatus`` is what the engine
knows (written only by the engine), so that a state update never looks like a
configuration change to the engine's hot reload. ``CheckEvent`` rows are the
one input of alerting and the helpdesk.
"""

from __future__ import annotations

from typing import ClassVar

from django.core.exceptions import ValidationError
from django.db import models, router, transaction
from django.utils.translation import gettext_lazy as _

from leitstand.monitoring.states import CheckState, EventKind, Status


class CheckQuerySet(models.QuerySet["Check"]):
    """Deleting checks waits for a result write under way for them."""

    def delete(self) -> tuple[int, dict[str, int]]:
        """Lock the checks first, then delete them and their results.

        The engine's store locks the checks it writes results for (FOR UPDATE)
        and inserts them. Django deletes a check's results before the check; a
        batch committed in between would reference the check at our COMMIT and
        fail the delete. Locked first, the delete waits for the batch and then
        removes its results too (or the batch waits, finds the check gone and
        drops them).
        """
        with transaction.atomic(using=self.db):
            list(self.select_for_update().order_by("pk").values_list("pk", flat=True))
            return super().delete()

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]


class Check(models.Model):
    """One service check on one asset, e.g. HTTPS on www.example.com."""

    class Priority(models.TextChoices):
        # Seed 002 §2.1: network, web, mail and database services are Priority 1.
        P1 = "P1", _("Priority 1 (critical)")
        P2 = "P2", _("Priority 2")

    asset = models.ForeignKey(
        "contracts.Asset", verbose_name=_("asset"), on_delete=models.CASCADE, related_name="checks"
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("check type"), max_length=50)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    interval_seconds = models.PositiveIntegerField(_("interval (seconds)"), default=60)
    retry_interval_seconds = models.PositiveIntegerField(
        _("retry interval (seconds)"),
        default=20,
        help_text=_("How soon a failing check is tried again before the failure counts."),
    )
    timeout_seconds = models.PositiveIntegerField(_("timeout (seconds)"), default=10)
    max_attempts = models.PositiveSmallIntegerField(
        _("attempts"),
        default=3,
        help_text=_("Failures in a row before a problem is confirmed and alarms go out."),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("depends on"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        help_text=_("While this check is down, failures of this one count as unreachable."),
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.P1
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CheckQuerySet.as_manager()

    class Meta:
        verbose_name = _("check")
        verbose_name_plural = _("checks")
        ordering = ("asset", "name")
        indexes: ClassVar = [models.Index(fields=["enabled", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.asset}: {self.name}"

    def delete(
        self, using: str | None = None, keep_parents: bool = False
    ) -> tuple[int, dict[str, int]]:
        """Delete after locking the row, like :meth:`CheckQuerySet.delete`."""
        db = using or router.db_for_write(Check, instance=self)
        with transaction.atomic(using=db):
            list(Check.objects.using(db).select_for_update().filter(pk=self.pk).values_list("pk"))
            return super().delete(using=using, keep_parents=keep_parents)

    def clean(self) -> None:
        """Refuse a check whose type is unknown or whose parameters are wrong, naming
        the field: better on save than as an UNKNOWN result at 3 a.m."""
        from leitstand.monitoring import passive  # noqa: PLC0415 - passive imports models
        from leitstand.monitoring.checks import ParamsError, registry  # noqa: PLC0415

        try:
            if self.kind in passive.PASSIVE_KINDS:
                passive.parse_params(self.params)
            elif self.kind not in registry.kinds():
                raise ValidationError(
                    {"kind": _("Unknown check type %(kind)s.") % {"kind": self.kind}}
                )
            else:
                registry.validate(self.kind, self.params)
        except ParamsError as exc:
            raise ValidationError({"params": str(exc)}) from None
        if self.parent_id is not None and self.parent_id == self.pk:
            raise ValidationError({"parent": _("A check cannot depend on itself.")})


STATE_CHOICES = [(s.value, s.value) for s in Status]


class CheckStatus(models.Model):
    """What the engine knows about a check, kept across engine restarts."""

    service_check = models.OneToOneField(
        Check,
        verbose_name=_("check"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="status",
    )
    state = models.CharField(_("state"), max_length=12, choices=STATE_CHOICES, default="pending")
    hard_state = models.CharField(
        _("confirmed state"), max_length=12, choices=STATE_CHOICES, default="pending"
    )
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=0)
    flapping = models.BooleanField(_("flapping"), default=False)
    history = models.JSONField(_("recent states"), default=list, blank=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_change_at = models.DateTimeField(_("last change"), null=True, blank=True)

    class Meta:
        verbose_name = _("check status")
        verbose_name_plural = _("check statuses")

    def __str__(self) -> str:
        return f"{self.service_check_id}: {self.hard_state}"

    def to_state(self) -> CheckState:
        """The state machine's view of this row."""
        return CheckState(
            state=Status(self.state),
            hard_state=Status(self.hard_state),
            attempt=self.attempt,
            flapping=self.flapping,
            history=tuple(Status(s) for s in self.history),
        )


class CheckResult(models.Model):
    """One run of a check; kept for a configurable period, then only as rollups."""

    service_check = models.ForeignKey(
        Check, verbose_name=_("check"), on_delete=models.CASCADE, related_name="results"
    )
    at = models.DateTimeField(_("time"))
    state = models.CharField(_("state"), max_length=12, choices=STATE_CHOICES)
    latency_s = models.FloatField(_("latency (s)"), null=True, blank=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    in_maintenance = models.BooleanField(_("in maintenance"), default=False)

    class Meta:
        verbose_name = _("check result")
        verbose_name_plural = _("check results")
        ordering = ("service_check", "-at")
        indexes: ClassVar = [
            models.Index(fields=["service_check", "at"]),
            models.Index(fields=["at"]),
        ]

    def __str__(self) -> str:
        return f"{self.service_check_id} {self.at:%Y-%m-%d %H:%M:%S} {self.state}"


class CheckEvent(models.Model):
    """A confirmed change of a check (or the start or end of flapping).

    The one input for alerting and the helpdesk. ``in_maintenance`` marks
    changes during announced maintenance: recorded, never alarmed.
    """

    service_check = models.ForeignKey(
        Check, verbose_name=_("check"), on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(_("time"))
    kind = models.CharField(
        _("kind"), max_length=20, choices=[(k.value, k.value) for k in EventKind]
    )
    old_state = models.CharField(_("old state"), max_length=12, choices=STATE_CHOICES)
    new_state = models.CharField(_("new state"), max_length=12, choices=STATE_CHOICES)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    priority = models.CharField(_("priority"), max_length=10)
    flapping = models.BooleanField(_("flapping"), default=False)
    in_maintenance = models.BooleanField(_("in maintenance"), default=False)

    class Meta:
        verbose_name = _("check event")
        verbose_name_plural = _("check events")
        ordering = ("-at", "-id")
        indexes: ClassVar = [
            models.Index(fields=["service_check", "at"]),
            models.Index(fields=["at"]),
        ]

    def __str__(self) -> str:
        return f"{self.service_check_id} {self.old_state} -> {self.new_state}"


class CheckRollup(models.Model):
    """Results of one check in one 5-minute or 1-hour bucket; kept far longer than results."""

    FIVE_MINUTES = 300
    ONE_HOUR = 3600

    service_check = models.ForeignKey(
        Check, verbose_name=_("check"), on_delete=models.CASCADE, related_name="rollups"
    )
    resolution = models.PositiveIntegerField(_("resolution (seconds)"))
    bucket = models.DateTimeField(_("bucket start"))
    samples = models.PositiveIntegerField(_("samples"))
    ok_samples = models.PositiveIntegerField(_("OK samples"))
    maintenance_samples = models.PositiveIntegerField(_("samples in maintenance"), default=0)
    latency_min = models.FloatField(null=True, blank=True)
    latency_avg = models.FloatField(null=True, blank=True)
    latency_max = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("check rollup")
        verbose_name_plural = _("check rollups")
        ordering = ("service_check", "resolution", "bucket")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["service_check", "resolution", "bucket"], name="unique_rollup_bucket"
            )
        ]

    def __str__(self) -> str:
        return f"{self.service_check_id} {self.resolution}s {self.bucket:%Y-%m-%d %H:%M}"
