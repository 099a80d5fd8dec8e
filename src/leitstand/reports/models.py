"""Claim rules: when a customer may claim SLA penalty compensation."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from leitstand.core.models import CatalogEntry
from leitstand.reports.claims import ClaimRule as ClaimRuleRule


class ClaimRule(CatalogEntry):
    """Seed 002 §2.2: "Claims must be submitted within 14 calendar days following the
    end of the relevant month. A claim may only be submitted if the Client reported
    at least one incident during that month."
    """

    window_days = models.PositiveIntegerField(_("window (days after month end)"))
    requires_reported_incident = models.BooleanField(_("requires a reported incident"))

    class Meta(CatalogEntry.Meta):
        verbose_name = _("claim rule")
        verbose_name_plural = _("claim rules")

    def to_rule(self) -> ClaimRuleRule:
        """The pure claim rule."""
        return ClaimRuleRule(
            window_days=self.window_days,
            requires_reported_incident=self.requires_reported_incident,
        )
