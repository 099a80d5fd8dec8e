"""Backup policies from the catalog."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from leitstand.backups.retention import RetentionPolicy
from leitstand.core.models import CatalogEntry
from leitstand.lib.durations import Duration


class BackupPolicy(CatalogEntry):
    """Seed 000 VII: "a daily backup that secures all data each day and retains it for
    up to 14 days"; seed 003 §6: "täglich gesichert und bis zu 6 Monate aufbewahrt".
    ``keep_for`` is calendar months plus seconds, as months have no fixed length.
    """

    keep_months = models.PositiveIntegerField(_("keep for (months)"), default=0)
    keep_seconds = models.PositiveBigIntegerField(_("keep for (seconds)"), default=0)

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
