"""Business calendars and SLA policies, as loaded from the catalog.

The rules themselves live in the pure modules :mod:`leitstand.sla.calendar` and
:mod:`leitstand.sla.deadlines`; these models hold the numbers and hand out the
rule objects through ``to_rule()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time, timedelta
from typing import Any, ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from leitstand.core.models import CatalogEntry
from leitstand.sla.calendar import BusinessCalendar, HolidaySpec
from leitstand.sla.deadlines import Target

# Building a calendar precomputes its open intervals; reuse it while the row is unchanged.
_CALENDAR_CACHE: dict[tuple[int, str], BusinessCalendar] = {}


def calendar_rule_from_fields(fields: Mapping[str, Any]) -> BusinessCalendar:
    """Build the pure calendar from stored field values.

    Shared by the model and the catalog validator, so that a file is refused
    for exactly the reasons the stored row would fail.
    """

    def clock(text: str) -> time | None:
        return None if text == "24:00" else time.fromisoformat(text)

    return BusinessCalendar(
        fields["timezone"],
        {
            int(day): [(clock(a) or time(0), clock(b)) for a, b in ranges]
            for day, ranges in fields["hours"].items()
        },
        holidays=(
            HolidaySpec(fields["holiday_country"], fields["holiday_subdivision"] or None)
            if fields["holiday_country"]
            else None
        ),
        closed=[date.fromisoformat(d) for d in fields["closed_days"]],
    )


class Calendar(CatalogEntry):
    """Office hours, time zone, public holidays and extra closed days.

    ``hours`` maps the weekday number (``"0"`` is Monday) to a list of
    ``["HH:MM", "HH:MM"]`` ranges in local wall-clock time.
    """

    timezone = models.CharField(_("time zone"), max_length=64)
    hours = models.JSONField(_("office hours"), default=dict)
    holiday_country = models.CharField(_("holidays: country"), max_length=2, blank=True)
    holiday_subdivision = models.CharField(_("holidays: subdivision"), max_length=10, blank=True)
    closed_days = models.JSONField(_("extra closed days"), default=list, blank=True)

    class Meta(CatalogEntry.Meta):
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def to_rule(self) -> BusinessCalendar:
        """The calendar rule object, cached while this row is unchanged."""
        key = (self.pk or 0, self.updated_at.isoformat() if self.updated_at else "")
        cached = _CALENDAR_CACHE.get(key) if self.pk else None
        if cached is not None:
            return cached
        rule = calendar_rule_from_fields(
            {
                "timezone": self.timezone,
                "hours": self.hours,
                "holiday_country": self.holiday_country,
                "holiday_subdivision": self.holiday_subdivision,
                "closed_days": self.closed_days,
            }
        )
        if self.pk:
            _CALENDAR_CACHE[key] = rule
        return rule


class SlaPolicy(CatalogEntry):
    """Targets per priority (initial response, diagnosis, restoration, ...)."""

    calendar = models.ForeignKey(
        Calendar, verbose_name=_("calendar"), on_delete=models.PROTECT, related_name="policies"
    )

    class Meta(CatalogEntry.Meta):
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def priorities(self) -> list[str]:
        """The priority names this policy defines, in catalog order."""
        seen: dict[str, None] = {}
        for target in self.targets.all():
            seen.setdefault(target.priority)
        return list(seen)

    def target(self, priority: str, target: str) -> SlaTarget:
        """One target; raises ``SlaTarget.DoesNotExist`` when the policy has none."""
        return self.targets.get(priority=priority, target=target)


class SlaTarget(models.Model):
    """One promise: e.g. priority P1, initial response within 1 clock hour."""

    policy = models.ForeignKey(
        SlaPolicy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="targets"
    )
    priority = models.CharField(_("priority"), max_length=50)
    target = models.CharField(_("target"), max_length=50)
    within_seconds = models.PositiveIntegerField(_("within (seconds)"))
    clock = models.BooleanField(
        _("clock time"), help_text=_("Real elapsed time around the clock, not business time.")
    )
    from_diagnosis = models.BooleanField(_("counts from diagnosis"), default=False)

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        ordering = ("policy", "id")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["policy", "priority", "target"], name="unique_target_per_priority"
            )
        ]

    def __str__(self) -> str:
        return f"{self.policy.name} {self.priority} {self.target}"

    def to_rule(self) -> Target:
        """The pure target rule."""
        return Target(
            within=timedelta(seconds=self.within_seconds),
            clock=self.clock,
            from_diagnosis=self.from_diagnosis,
        )
