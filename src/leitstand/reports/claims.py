"""Penalty claims for a missed service level: when a claim may be filed.

Seed 002 §2.2: "Claims must be submitted within 14 calendar days following the
end of the relevant month. A claim may only be submitted if the Client reported
at least one incident during that month."

Pure rules over plain values: no Django imports.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


@dataclass(frozen=True)
class ClaimRule:
    """How long after a month a claim for it may be filed, and on what condition.

    Seed 002 §2.2 "within 14 calendar days following the end of the relevant
    month" (``window_days``) and "only ... if the Client reported at least one
    incident during that month" (``requires_reported_incident``).
    """

    window_days: int
    requires_reported_incident: bool

    def __post_init__(self) -> None:
        if self.window_days < 0:
            raise ValueError(f"window_days must not be negative, not {self.window_days}")


class ClaimDecision(StrEnum):
    """The answer to a claim, as the scenario files and the API print it."""

    ACCEPTED = "accepted"
    REJECTED_EARLY = "rejected:early"
    REJECTED_LATE = "rejected:late"
    REJECTED_NO_REPORTED_INCIDENT = "rejected:no_reported_incident"


def _month_end(year: int, month: int) -> date:
    if not 1 <= month <= 12:
        raise ValueError(f"bad month {month}: expected 1 to 12")
    return date(year, month, calendar.monthrange(year, month)[1])


def claim_deadline(rule: ClaimRule, year: int, month: int) -> date:
    """The last day on which a claim for ``year``-``month`` may be filed.

    Seed 002 §2.2 "within 14 calendar days following the end of the relevant
    month": the days are counted from the day after the month's last day, so
    for November 2026 the last day is 14 December 2026.
    """
    return _month_end(year, month) + timedelta(days=rule.window_days)


def decide_claim(
    rule: ClaimRule, year: int, month: int, filed_on: date, reported_incidents: int
) -> ClaimDecision:
    """Whether a claim for ``year``-``month`` filed on ``filed_on`` is admissible.

    Seed 002 §2.2 "Claims must be submitted within 14 calendar days following
    the end of the relevant month. A claim may only be submitted if the Client
    reported at least one incident during that month." Checked in this order:
    too early (the month has not ended: filed on or before its last day), too
    late (after :func:`claim_deadline`), no incident reported.
    """
    if reported_incidents < 0:
        raise ValueError(f"reported_incidents must not be negative, not {reported_incidents}")
    if filed_on <= _month_end(year, month):
        return ClaimDecision.REJECTED_EARLY
    if filed_on > claim_deadline(rule, year, month):
        return ClaimDecision.REJECTED_LATE
    if rule.requires_reported_incident and reported_incidents < 1:
        return ClaimDecision.REJECTED_NO_REPORTED_INCIDENT
    return ClaimDecision.ACCEPTED
