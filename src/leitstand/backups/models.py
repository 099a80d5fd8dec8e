"""Backup policies from the catalog, and customers' restore requests."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from leitstand.backups.retention import RetentionPolicy
from leitstand.core.models import CatalogEntry
from leitstand.lib.durations import Duration


class BackupPolicy(CatalogEntry):
    """Seed 000 VII: "a daily backup that secures all data each day and retains it for
    up to 14 days"; seed 003 §6: "täglich gesichert und bis zu 6 Monate aufbewahrt".
    ``keep_for`` is calendar months plus seconds, as months have no fixed length.

    Seed 003 §6 also knows a backup that saves less: without a booked daily
    backup there is "ein remote Backup, das ausschließlich Serverdaten sichert";
    ``scope`` says which of the two a policy is, ``interval_seconds`` how often
    it runs (daily unless set otherwise).
    """

    class Scope(models.TextChoices):
        ALL_DATA = "all", _("all data")
        SERVER_DATA = "server", _("server data only")

    keep_months = models.PositiveIntegerField(_("keep for (months)"), default=0)
    keep_seconds = models.PositiveBigIntegerField(_("keep for (seconds)"), default=0)
    scope = models.CharField(
        _("what is saved"), max_length=10, choices=Scope.choices, default=Scope.ALL_DATA
    )
    interval_seconds = models.PositiveIntegerField(_("runs every (seconds)"), default=86400)

    class Meta(CatalogEntry.Meta):
        verbose_name = _("backup policy")
        verbose_name_plural = _("backup policies")

    @property
    def keep_for(self) -> Duration:
        """How long a snapshot is kept."""
        return Duration(months=self.keep_months, seconds=self.keep_seconds)

    def to_rule(self) -> RetentionPolicy:
        """The pure retention rule."""
        return RetentionPolicy(keep_for=self.keep_for)


class RestoreRequest(models.Model):
    """A customer's request to restore data from a backup, kept with its ticket.

    Seed 003 §6: "Das Wiederherstellen von Backups (Restore) ist über den
    Support möglich, wobei sowohl einzelne Dateien, komplette Ordner als auch
    ganze Accounts und VMs wiederhergestellt werden können." Seed 000 VII:
    "The restoration of a backup may be charged to the Customer if the cause was
    created by the Customer or a user of the application" -- so the customer
    states the cause, and the request keeps it for billing.
    """

    class What(models.TextChoices):
        FILE = "file", _("a file")
        FOLDER = "folder", _("a folder")
        ACCOUNT = "account", _("an account")
        DATABASE = "database", _("a database")
        SERVER = "server", _("the whole server")

    class Destination(models.TextChoices):
        ORIGINAL = "original", _("in its original place (overwrites the current state)")
        ALONGSIDE = "alongside", _("next to the current data (nothing is overwritten)")

    class Cause(models.TextChoices):
        CUSTOMER = "customer", _("caused by us or a user of the application")
        OTHER = "other", _("not caused by us (e.g. a failure)")
        UNKNOWN = "unknown", _("unknown")

    asset = models.ForeignKey(
        "contracts.Asset",
        verbose_name=_("asset"),
        on_delete=models.CASCADE,
        related_name="restore_requests",
    )
    what = models.CharField(_("what"), max_length=10, choices=What.choices)
    target = models.CharField(
        _("path or name"),
        max_length=500,
        blank=True,
        help_text=_("The file, folder, account or database to restore."),
    )
    point_in_time = models.DateTimeField(_("state as of"))
    destination = models.CharField(
        _("restore"), max_length=10, choices=Destination.choices, default=Destination.ALONGSIDE
    )
    cause = models.CharField(_("cause"), max_length=10, choices=Cause.choices)
    billable_notice = models.TextField(_("billing notice shown"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested"))
    ticket = models.OneToOneField(
        "helpdesk.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="restore_request",
    )

    class Meta:
        verbose_name = _("restore request")
        verbose_name_plural = _("restore requests")
        ordering = ("-requested_at",)
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(what="server") | ~models.Q(target=""),
                name="restore_names_its_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.asset}: {self.what} {self.target}".strip()
