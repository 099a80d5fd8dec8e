"""The monthly SLA report of one contract: measured availability against the
promise, the month's incidents, and what a claim for the month would pay.

Months are the customer's calendar months (seed 002 §2.2 "All times stated are
based on UTC +1 and UTC +2 during daylight saving time"): the database keeps
UTC, the boundaries are taken in the customer's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone

from leitstand.billing import invoicing
from leitstand.contracts.models import Contract, Customer
from leitstand.helpdesk.models import Ticket
from leitstand.lib.money import ZERO
from leitstand.monitoring.history import check_availability
from leitstand.monitoring.models import Check
from leitstand.reports.availability import Availability
from leitstand.reports.claims import (
    ClaimDecision,
    Compensation,
    availability_percent,
    claim_deadline,
    compensation,
    decide_claim,
)
from leitstand.reports.models import ClaimRule

# Seed 002 §1.5: "the Client may report an incident if it is observed
# independently": what monitoring opened itself was not reported by the client.
CUSTOMER_CHANNELS = (Ticket.Channel.PORTAL, Ticket.Channel.EMAIL, Ticket.Channel.PHONE)


def customer_zone(customer: Customer) -> tzinfo:
    """The customer's time zone; the site's when the stored name is unknown."""
    try:
        return ZoneInfo(customer.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def local_today(customer: Customer, now: datetime | None = None) -> date:
    """Today in the customer's time zone: the day a claim counts as filed on."""
    return (now or timezone.now()).astimezone(customer_zone(customer)).date()


def month_span(customer: Customer, year: int, month: int) -> tuple[datetime, datetime]:
    """[start, end) of a calendar month in the customer's time zone, as aware instants."""
    zone = customer_zone(customer)
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return datetime.combine(first, time(0), zone), datetime.combine(following, time(0), zone)


def parse_month(text: str | None) -> tuple[int, int] | None:
    """``"2026-11"`` -> (2026, 11); None for anything else (the caller says what is wrong)."""
    if not text:
        return None
    parts = text.strip().split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
        return None
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12 or year < 2000:
        return None
    return year, month


def previous_month(today: date) -> tuple[int, int]:
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


def reported_incidents(customer: Customer, year: int, month: int) -> int:
    """Incidents the customer itself reported in the month (seed 002 §2.2)."""
    start, end = month_span(customer, year, month)
    return customer.tickets.filter(
        kind=Ticket.Kind.INCIDENT,
        channel__in=CUSTOMER_CHANNELS,
        created_at__gte=start,
        created_at__lt=end,
    ).count()


@dataclass(frozen=True)
class ServiceMonth:
    """One priority 1 service of the asset over the month."""

    check: Check
    measured: Availability
    percent: Decimal | None


@dataclass
class MonthReport:
    """Everything the report page, the claim form and the decision page show."""

    contract: Contract
    year: int
    month: int
    start: datetime
    end: datetime
    rule: ClaimRule | None
    monthly_fee: Decimal
    services: list[ServiceMonth] = field(default_factory=list)
    incidents: list[Ticket] = field(default_factory=list)
    reported: int = 0
    compensation: Compensation | None = None
    rule_error: str = ""

    @property
    def month_start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def availability(self) -> Decimal | None:
        """The worst priority 1 service: the promise holds for each of them."""
        measured = [s.percent for s in self.services if s.percent is not None]
        return min(measured) if measured else None

    @property
    def deadline(self) -> date | None:
        if self.rule is None:
            return None
        return claim_deadline(self.rule.to_rule(), self.year, self.month)

    def admissible(self, filed_on: date) -> ClaimDecision | None:
        """Whether a claim filed on ``filed_on`` is in time and allowed; None: no claim
        rule in the contract, so no claims at all."""
        if self.rule is None:
            return None
        return decide_claim(self.rule.to_rule(), self.year, self.month, filed_on, self.reported)


def month_fee(contract: Contract, year: int, month: int) -> Decimal:
    """The package fee charged for that month (pro rata as the invoice charged it)."""
    line = invoicing.fee_line(
        "",
        contract.plan.monthly_fee,
        starts=contract.starts_on,
        ends=contract.ends_on,
        year=year,
        month=month,
        vat=invoicing.Vat(Decimal(0), invoicing.VatTreatment.STANDARD),
    )
    return ZERO if line is None else line.net


def month_report(contract: Contract, year: int, month: int) -> MonthReport:
    """The SLA report of ``contract`` for ``year``-``month``.

    Seed 002 §2.1: the priority 1 services (network, web, mail, database) are
    "monitored 24×7 by Webosa"; their availability is what was promised. A month
    not yet over is measured up to now.
    """
    customer = contract.asset.customer
    start, end = month_span(customer, year, month)
    rule = contract.policy("claim_rule")
    assert rule is None or isinstance(rule, ClaimRule)
    report = MonthReport(
        contract=contract,
        year=year,
        month=month,
        start=start,
        end=end,
        rule=rule,
        monthly_fee=month_fee(contract, year, month),
    )
    until = min(end, timezone.now())
    checks = contract.asset.checks.filter(priority=Check.Priority.P1).order_by("name")
    for check in checks:
        measured = (
            check_availability(check, start, until)
            if until > start
            else Availability(up=until - until, down=until - until, excluded=until - until)
        )
        percent = availability_percent(
            measured.up.total_seconds(), measured.counted.total_seconds()
        )
        report.services.append(ServiceMonth(check, measured, percent))
    report.incidents = list(
        customer.tickets.filter(
            kind=Ticket.Kind.INCIDENT, created_at__gte=start, created_at__lt=end
        ).order_by("created_at")
    )
    report.reported = sum(1 for t in report.incidents if t.channel in CUSTOMER_CHANNELS)
    if rule is not None:
        try:
            report.compensation = compensation(
                rule.to_compensation_rule(), report.monthly_fee, report.availability
            )
        except ValueError as exc:
            # A broken scale is the provider's error: shown to staff, never a traceback.
            report.rule_error = str(exc)
    return report
