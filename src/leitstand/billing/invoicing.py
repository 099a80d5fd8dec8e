"""What an invoice says: lines, VAT and totals, as pure functions over plain values.

- Monthly fees are charged for the days a contract runs in the month (a
  contract starting on the 16th of a 30-day month pays 15/30), rounded per line.
- Recorded time is priced per ticket and work type with the contract's rate
  card (:mod:`leitstand.billing.charges`): seed 000 I charges "per commenced 6
  minutes" when "more than 15 minutes of work are required to resolve such
  issues" -- the threshold is about the issue, so the time of one ticket is
  added up before it is priced.
- VAT is stated per line in cents, and the lines of one rate add up to the VAT
  of that rate computed on its net sum (EN 16931 BR-CO-17: "VAT category tax
  amount = VAT category taxable amount x (VAT category rate / 100), rounded to
  two decimals"). Rounding each line alone can miss that by a few cents, so the
  difference is handed out cent by cent to the lines whose own rounding lost
  the most (largest remainder): every line stays within a cent of its exact
  VAT, and totals are sums of lines, so the invoice always adds up.
- VAT treatment: German customers and private customers in the EU pay German
  VAT (19 %); EU business customers with a VAT ID abroad get reverse charge
  (§ 13b UStG, 0 % with the note); business customers outside the EU are not
  taxable in Germany (§ 3a Abs. 2 UStG, 0 % with the note).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from leitstand.billing.charges import RateCard, price
from leitstand.lib.money import CENT, ZERO, round_cents

GERMAN_VAT = Decimal("19")
EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)


class VatTreatment(StrEnum):
    """Why a line carries the VAT it carries."""

    STANDARD = "standard"
    REVERSE_CHARGE = "reverse_charge"
    NOT_TAXABLE = "not_taxable"


@dataclass(frozen=True)
class Vat:
    """The VAT rate in percent and its legal basis."""

    rate: Decimal
    treatment: VatTreatment


def vat_for(country: str, *, is_business: bool, vat_id: str, home: str = "DE") -> Vat:
    """The VAT of a provider in ``home`` for a customer (B2B services, § 3a UStG)."""
    country = country.upper()
    if country == home or not is_business:
        return Vat(GERMAN_VAT, VatTreatment.STANDARD)
    if country in EU_COUNTRIES:
        if vat_id.strip():
            return Vat(Decimal("0"), VatTreatment.REVERSE_CHARGE)
        # An EU business without a VAT ID cannot be invoiced under reverse charge.
        return Vat(GERMAN_VAT, VatTreatment.STANDARD)
    return Vat(Decimal("0"), VatTreatment.NOT_TAXABLE)


@dataclass(frozen=True)
class Line:
    """One invoice line: net = round(quantity x unit price); VAT rounded per line."""

    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    vat_rate: Decimal
    kind: str  # fee, addon, time, event, credit
    included: bool = False  # shown, but costs nothing under the contract
    reference: str = ""

    @property
    def net(self) -> Decimal:
        return ZERO if self.included else round_cents(self.quantity * self.unit_price)

    @property
    def vat(self) -> Decimal:
        return round_cents(self.net * self.vat_rate / 100)

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


@dataclass(frozen=True)
class Totals:
    """Sums of the lines, per VAT rate and overall."""

    net: Decimal
    vat: Decimal
    gross: Decimal
    by_rate: dict[Decimal, tuple[Decimal, Decimal]] = field(default_factory=dict)
    line_vat: tuple[Decimal, ...] = ()  # the VAT of each line, in the order given


def line_vats(lines: Sequence[Line]) -> list[Decimal]:
    """The VAT of each line, so that per rate the lines sum to the rate's VAT (BR-CO-17)."""
    vats = [line.vat for line in lines]
    groups: dict[Decimal, list[int]] = {}
    for i, line in enumerate(lines):
        groups.setdefault(line.vat_rate, []).append(i)
    for rate, members in groups.items():
        basis = sum((lines[i].net for i in members), ZERO)
        target = round_cents(basis * rate / 100)
        cents = int((target - sum((vats[i] for i in members), ZERO)) / CENT)
        if not cents:
            continue
        step = CENT if cents > 0 else -CENT
        # The lines whose rounding moved furthest away from the needed direction first;
        # position breaks ties, so the same lines always give the same invoice.
        exact = {i: lines[i].net * rate / 100 for i in members}
        order = sorted(members, key=lambda i: (-(exact[i] - vats[i]) * step, i))
        for i in order[: abs(cents)]:
            vats[i] += step
    return vats


def totals(lines: Iterable[Line]) -> Totals:
    """Sum the lines; nothing is rounded here, so the totals equal the sum of lines."""
    items = list(lines)
    vats = line_vats(items)
    net = vat = ZERO
    by_rate: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for line, line_vat in zip(items, vats, strict=True):
        net += line.net
        vat += line_vat
        base, tax = by_rate.get(line.vat_rate, (ZERO, ZERO))
        by_rate[line.vat_rate] = (base + line.net, tax + line_vat)
    return Totals(net, vat, net + vat, by_rate, tuple(vats))


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """First and last day of a month."""
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def active_days(starts: date, ends: date | None, year: int, month: int) -> int:
    """Days of the month a contract runs (both ends included)."""
    first, last = month_bounds(year, month)
    lo, hi = max(first, starts), min(last, ends or last)
    return max(0, (hi - lo).days + 1)


def fee_line(
    description: str,
    monthly_fee: Decimal,
    *,
    starts: date,
    ends: date | None,
    year: int,
    month: int,
    vat: Vat,
    kind: str = "fee",
    reference: str = "",
) -> Line | None:
    """A monthly fee for the days the contract runs in the month; None when it does not run."""
    days = active_days(starts, ends, year, month)
    if days == 0:
        return None
    in_month = calendar.monthrange(year, month)[1]
    quantity = Decimal(days) / Decimal(in_month)
    if days == in_month:
        quantity = Decimal(1)
    return Line(
        description=description,
        quantity=quantity,
        unit="month",
        unit_price=monthly_fee,
        vat_rate=vat.rate,
        kind=kind,
        reference=reference,
    )


@dataclass(frozen=True)
class WorkedTime:
    """Time recorded on one ticket for one work type."""

    ticket: str
    work_type: str
    seconds: int
    billable: bool


def time_lines(work: Sequence[WorkedTime], card: RateCard | None, vat: Vat) -> list[Line]:
    """Price recorded time per ticket and work type; included work is shown at zero.

    Billable time of a work type the rate card does not price cannot be charged:
    it is shown as included rather than invented a price for.
    """
    grouped: dict[tuple[str, str, bool], int] = {}
    for item in work:
        key = (item.ticket, item.work_type, item.billable)
        grouped[key] = grouped.get(key, 0) + item.seconds
    lines = []
    for (ticket, work_type, billable), seconds in sorted(grouped.items()):
        duration = timedelta(seconds=seconds)
        minutes = f"{seconds // 60} min"
        if billable and card is not None and work_type in card.rates:
            charge = price(card, work_type, duration)
            description = f"{ticket}: {work_type} ({minutes})"
            if charge.free:
                lines.append(
                    Line(description, Decimal(1), "task", ZERO, vat.rate, "time", True, ticket)
                )
            else:
                lines.append(
                    Line(
                        description,
                        Decimal(charge.increments),
                        f"{int(card.increment.total_seconds() // 60)} min",
                        charge.unit_price,
                        vat.rate,
                        "time",
                        reference=ticket,
                    )
                )
        else:
            lines.append(
                Line(
                    f"{ticket}: {work_type} ({minutes})",
                    Decimal(1),
                    "task",
                    ZERO,
                    vat.rate,
                    "time",
                    True,
                    ticket,
                )
            )
    return lines
