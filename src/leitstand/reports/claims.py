"""Penalty claims for a missed service level: when a claim may be filed, and what it pays.

Seed 002 §2.2: "Claims must be submitted within 14 calendar days following the
end of the relevant month. A claim may only be submitted if the Client reported
at least one incident during that month."

Pure rules over plain values: no Django imports.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from itertools import pairwise

from leitstand.lib.money import round_cents


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


def open_months(rule: ClaimRule, today: date) -> list[tuple[int, int]]:
    """The months a claim filed on ``today`` is in time for, newest first.

    Seed 002 §2.2 "within 14 calendar days following the end of the relevant
    month": on 10 December that is November; on 20 December no month is open.
    A window longer than a month can keep two months open at once.
    """
    months: list[tuple[int, int]] = []
    year, month = today.year, today.month
    while True:
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        if claim_deadline(rule, year, month) < today:
            return months
        months.append((year, month))


# --- compensation -------------------------------------------------------------

PERCENT_PLACES = Decimal("0.001")
HUNDRED = Decimal(100)
ZERO_PERCENT = Decimal(0)


@dataclass(frozen=True)
class CreditTier:
    """Below ``below`` percent measured availability, ``credit`` percent of the fee is paid."""

    below: Decimal
    credit: Decimal


@dataclass(frozen=True)
class CompensationRule:
    """What a missed availability promise costs the provider.

    Seed 002 §2.2: "If all conditions are met and Webosa's measurements confirm a
    deviation from the agreed service levels, the applicable penalty compensation
    will be paid." ``target`` is the agreed level (percent of the counted time a
    service is up), ``tiers`` the applicable compensation as a share of the
    month's fee for the service, ``cap`` the most one month can cost (percent).
    """

    target: Decimal
    tiers: tuple[CreditTier, ...]
    cap: Decimal

    def __post_init__(self) -> None:
        if not ZERO_PERCENT < self.target <= HUNDRED:
            raise ValueError(f"target must be above 0 and at most 100 percent, not {self.target}")
        if not ZERO_PERCENT <= self.cap <= HUNDRED:
            raise ValueError(f"cap must be between 0 and 100 percent, not {self.cap}")
        for tier in self.tiers:
            if not ZERO_PERCENT < tier.below <= self.target:
                raise ValueError(
                    f"a tier below {tier.below} % must lie between 0 and the target {self.target} %"
                )
            if not ZERO_PERCENT <= tier.credit <= HUNDRED:
                raise ValueError(f"a credit of {tier.credit} % is not between 0 and 100")
            if tier.below != tier.below.quantize(PERCENT_PLACES):
                raise ValueError(f"tier {tier.below} %: at most three decimal places")
        belows = [t.below for t in self.tiers]
        if len(set(belows)) != len(belows):
            raise ValueError("two tiers start at the same availability")
        # A lower availability must never pay less: that would reward a longer outage.
        ordered = sorted(self.tiers, key=lambda t: t.below, reverse=True)
        for higher, lower in pairwise(ordered):
            if lower.credit < higher.credit:
                raise ValueError(
                    f"below {lower.below} % the credit ({lower.credit} %) is smaller than "
                    f"below {higher.below} % ({higher.credit} %)"
                )


@dataclass(frozen=True)
class Compensation:
    """The result of :func:`compensation`, with every step shown for the decision page."""

    availability: Decimal | None  # measured, percent (floored to 0.001), None: nothing counted
    target: Decimal
    credit_percent: Decimal
    uncapped: Decimal
    cap_amount: Decimal
    amount: Decimal

    @property
    def deviation(self) -> bool:
        """Whether the measurements confirm a deviation from the agreed level."""
        return self.availability is not None and self.availability < self.target

    @property
    def capped(self) -> bool:
        return self.uncapped > self.amount


def availability_percent(up_seconds: float, counted_seconds: float) -> Decimal | None:
    """Measured availability in percent, rounded down to 0.001 %.

    Rounding down keeps every comparison with a target of at most three
    decimals exact: 99.8999 % is below 99.9 % and stays below it; and a
    customer is never told a service met a promise it missed.
    """
    if counted_seconds <= 0:
        return None
    if up_seconds < 0 or up_seconds > counted_seconds:
        raise ValueError(f"up {up_seconds} s is not within the counted {counted_seconds} s")
    exact = Decimal(str(up_seconds)) * HUNDRED / Decimal(str(counted_seconds))
    return exact.quantize(PERCENT_PLACES, rounding=ROUND_FLOOR)


def compensation(
    rule: CompensationRule, monthly_fee: Decimal, availability: Decimal | None
) -> Compensation:
    """The compensation for one service month: the credit of the lowest tier the
    measured availability falls below, as a share of ``monthly_fee`` (the fee
    charged for that month), rounded half up to the cent, at most ``cap``.

    No measurement (nothing counted) confirms no deviation and pays nothing.
    """
    if monthly_fee < 0:
        raise ValueError(f"the monthly fee cannot be negative, not {monthly_fee}")
    credit = ZERO_PERCENT
    if availability is not None and availability < rule.target:
        credit = max((t.credit for t in rule.tiers if availability < t.below), default=ZERO_PERCENT)
    uncapped = round_cents(monthly_fee * credit / HUNDRED)
    cap_amount = round_cents(monthly_fee * rule.cap / HUNDRED)
    return Compensation(
        availability=availability,
        target=rule.target,
        credit_percent=credit,
        uncapped=uncapped,
        cap_amount=cap_amount,
        amount=min(uncapped, cap_amount),
    )
