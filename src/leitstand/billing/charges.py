"""Time-based charges: every commenced increment is charged in full.

The service agreements bill extra work by the commenced increment, some with a
free allowance:

- seed 000 §I: "If more than 15 minutes of work are required to resolve such
  issues, IT-Hafen will ... charge €10.00 per commenced 6 minutes."
- seed 003 §1: "35,00 EUR netto je angefangener Viertelstunde ..., falls die
  Behebung mehr als 5 Minuten in Anspruch nimmt"
- seed 002 §1.7: "Billing is calculated per 30 minutes." with hourly rates
  ("IT Support ... Rate: €140 per hour").

Pure rules over plain values: no Django imports, so the catalog importer, the
invoicing code and ``leitstand scenarios check`` all share this one answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, localcontext
from fractions import Fraction

from leitstand.lib.money import ZERO, round_cents

_HOUR = timedelta(hours=1)
_MICROSECOND = timedelta(microseconds=1)
# Digits for the few divisions: far more than any amount on an invoice needs.
_PRECISION = 40


class UnknownWorkType(KeyError, ValueError):
    """The rate card has no rate for this work type.

    A :class:`KeyError` because it is a failed lookup, a :class:`ValueError`
    because callers validating user input catch that.
    """

    def __init__(self, work_type: str, known: list[str]) -> None:
        super().__init__(work_type)
        self.work_type = work_type
        self.known = known

    def __str__(self) -> str:
        # KeyError.__str__ would print the repr of the key only.
        listed = ", ".join(self.known) or "none"
        return f"unknown work type {self.work_type!r}: the rate card has rates for {listed}"


@dataclass(frozen=True)
class Rate:
    """The price of one kind of work: per hour or per increment, never both.

    Seed 002 §1.7 states hourly rates ("Rate: €140 per hour") billed "per 30
    minutes"; seeds 000 and 003 state the price of one increment ("€10.00 per
    commenced 6 minutes", "35,00 EUR netto je angefangener Viertelstunde").
    """

    per_hour: Decimal | None = None
    per_increment: Decimal | None = None

    def __post_init__(self) -> None:
        given = [value for value in (self.per_hour, self.per_increment) if value is not None]
        if len(given) != 1:
            raise ValueError("a rate needs exactly one of per_hour or per_increment")
        value = given[0]
        # Floats are inexact before they reach us; money is Decimal throughout.
        if not isinstance(value, Decimal):
            raise TypeError(f"a rate must be a Decimal, not {type(value).__name__}")
        if not value.is_finite() or value < 0:
            raise ValueError(f"a rate must be a non-negative amount, not {value}")


@dataclass(frozen=True)
class RateCard:
    """Rates per work type, the billing increment and an optional free allowance.

    ``free_up_to``: work of at most this long is free; longer work is charged
    from the first minute (seed 000 §I "If more than 15 minutes of work are
    required ...", seed 003 §1 "falls die Behebung mehr als 5 Minuten in
    Anspruch nimmt").
    """

    currency: str
    increment: timedelta
    rates: Mapping[str, Rate]
    free_up_to: timedelta | None = None

    def __post_init__(self) -> None:
        if not self.currency:
            raise ValueError("a rate card needs a currency")
        if self.increment <= timedelta(0):
            raise ValueError(f"the billing increment must be positive, not {self.increment}")
        if self.free_up_to is not None and self.free_up_to < timedelta(0):
            raise ValueError(f"free_up_to must not be negative, not {self.free_up_to}")

    def rate(self, work_type: str) -> Rate:
        """The rate for ``work_type``; :class:`UnknownWorkType` if there is none."""
        try:
            return self.rates[work_type]
        except KeyError:
            raise UnknownWorkType(work_type, sorted(self.rates)) from None

    def unit_price(self, work_type: str) -> Decimal:
        """The price of one increment of ``work_type``, unrounded.

        Exact whenever the increment is a terminating decimal fraction of an
        hour (6, 15, 30 minutes ...); the amount of a charge never depends on
        this value's precision: it is computed from exact fractions.
        """
        rate = self.rate(work_type)
        if rate.per_increment is not None:
            return rate.per_increment
        assert rate.per_hour is not None  # guaranteed by Rate.__post_init__
        with localcontext() as context:
            context.prec = _PRECISION
            # Dividing by the hour last keeps the rate's two places: 70.00, not 70.
            return rate.per_hour * (self.increment // _MICROSECOND) / (_HOUR // _MICROSECOND)


def _increment_price(card: RateCard, work_type: str) -> Fraction:
    """The exact price of one increment, for arithmetic without rounding."""
    rate = card.rate(work_type)
    if rate.per_increment is not None:
        return Fraction(rate.per_increment)
    assert rate.per_hour is not None  # guaranteed by Rate.__post_init__
    return Fraction(rate.per_hour) * Fraction(card.increment // _MICROSECOND, _HOUR // _MICROSECOND)


@dataclass(frozen=True)
class Charge:
    """One priced piece of work.

    ``increments`` is the number of increments charged (0 for free work),
    ``unit_price`` the exact price of one increment, ``amount`` the line amount
    rounded half up to the cent once, ``free`` whether the free allowance
    applied.
    """

    work_type: str
    duration: timedelta
    increments: int
    unit_price: Decimal
    amount: Decimal
    free: bool


def _to_decimal(value: Fraction) -> Decimal:
    # _PRECISION significant digits hold every terminating amount exactly; a
    # non-terminating one (a 7-minute increment of an hourly rate) is never
    # exactly on a half cent, so rounding its approximation once is correct.
    with localcontext() as context:
        context.prec = _PRECISION
        return Decimal(value.numerator) / Decimal(value.denominator)


def price(card: RateCard, work_type: str, duration: timedelta) -> Charge:
    """Price ``duration`` of ``work_type`` work on ``card``.

    Seed 000 §I / §IV / §VII "€10.00 per commenced 6 minutes", seed 003 §1
    "35,00 EUR netto je angefangener Viertelstunde ..., falls die Behebung mehr
    als 5 Minuten in Anspruch nimmt", seed 002 §1.7 "Billing is calculated per
    30 minutes": every commenced increment is charged in full; work of at most
    ``free_up_to`` is free and longer work is charged from the first minute;
    zero work costs nothing.
    """
    if duration < timedelta(0):
        raise ValueError(f"a duration of work cannot be negative, not {duration}")
    unit = _increment_price(card, work_type)  # raises UnknownWorkType first
    unit_price = card.unit_price(work_type)
    if card.free_up_to is not None and duration <= card.free_up_to:
        return Charge(work_type, duration, 0, unit_price, ZERO, free=True)
    whole, rest = divmod(duration, card.increment)
    increments = whole + (1 if rest else 0)
    amount = round_cents(_to_decimal(unit * increments))
    return Charge(work_type, duration, increments, unit_price, amount, free=False)


def charge(card: RateCard, work_type: str, duration: timedelta) -> Decimal:
    """The amount for ``duration`` of ``work_type`` work; see :func:`price`."""
    return price(card, work_type, duration).amount
