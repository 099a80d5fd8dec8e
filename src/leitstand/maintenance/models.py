"""Maintenance windows and update policies from the catalog."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from leitstand.core.models import CatalogEntry
from leitstand.maintenance.updates import UpdateClass
from leitstand.maintenance.updates import UpdatePolicy as UpdatePolicyRule
from leitstand.maintenance.windows import MaintenanceWindow as WindowRule
from leitstand.maintenance.windows import parse_days


class MaintenanceWindow(CatalogEntry):
    """Seed 002 §1.2: "predefined maintenance windows, which take place daily between
    01:00 and 08:00 (CET)". ``days`` are the days a window starts on (``mon-sun``);
    an ``end`` at or before ``start`` ends on the next day.
    """

    timezone = models.CharField(_("time zone"), max_length=64)
    days = models.CharField(_("days"), max_length=20, help_text=_("e.g. mon-sun, sat-sun, tue"))
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))

    class Meta(CatalogEntry.Meta):
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")

    def to_rule(self) -> WindowRule:
        """The pure window rule."""
        return WindowRule(
            timezone=self.timezone, days=parse_days(self.days), start=self.start, end=self.end
        )


class UpdatePolicy(CatalogEntry):
    """Seed 000 III: minor and patch updates are in the monthly fee; major upgrades
    "may be offered separately and commissioned on the basis of a separate quote".
    """

    included = models.JSONField(_("included update classes"), default=list)

    class Meta(CatalogEntry.Meta):
        verbose_name = _("update policy")
        verbose_name_plural = _("update policies")

    def to_rule(self) -> UpdatePolicyRule:
        """The pure update policy."""
        return UpdatePolicyRule(included=frozenset(UpdateClass(c) for c in self.included))


class PlannedWork(models.Model):
    """Announced maintenance on some assets: checks keep running, alarms stay quiet.

    Seed 002 §1.2: "Webosa performs Scheduled Maintenance during predefined
    maintenance windows"; seed 001 §5.1: updates "im nächstmöglichen
    Wartungsfenster".
    """

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    assets = models.ManyToManyField(
        "contracts.Asset", verbose_name=_("assets"), related_name="planned_work"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("planned maintenance")
        verbose_name_plural = _("planned maintenance")
        ordering = ("-starts_at",)
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="planned_work_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.title
