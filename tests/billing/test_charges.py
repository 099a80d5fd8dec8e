"""Charges per commenced increment (billing/charges.py)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leitstand.billing.charges import Charge, Rate, RateCard, UnknownWorkType, charge, price
from leitstand.lib.durations import parse_timedelta

# The rate cards of the scenario files, written out as the importer builds them.
CARDS = {
    # seed 000 §I: "If more than 15 minutes ... €10.00 per commenced 6 minutes."
    "special-support": RateCard(
        currency="EUR",
        increment=timedelta(minutes=6),
        free_up_to=timedelta(minutes=15),
        rates={"special_support": Rate(per_increment=Decimal("10.00"))},
    ),
    # seed 000 §IV, §VII: every critical-incident request and restore is charged.
    "critical-incident": RateCard(
        currency="EUR",
        increment=timedelta(minutes=6),
        rates={
            "critical_incident": Rate(per_increment=Decimal("10.00")),
            "restore": Rate(per_increment=Decimal("10.00")),
        },
    ),
    # seed 002 §1.7: "Billing is calculated per 30 minutes."
    "webosa": RateCard(
        currency="EUR",
        increment=timedelta(minutes=30),
        rates={
            "basic_support": Rate(per_hour=Decimal("100.00")),
            "it_support": Rate(per_hour=Decimal("140.00")),
            "consultancy": Rate(per_hour=Decimal("180.00")),
        },
    ),
    # seed 003 §1 and §10: 35,00 EUR per commenced quarter hour, more than 5 minutes.
    "cloudflux": RateCard(
        currency="EUR",
        increment=timedelta(minutes=15),
        free_up_to=timedelta(minutes=5),
        rates={
            "special_support": Rate(per_increment=Decimal("35.00")),
            "install_assist": Rate(per_increment=Decimal("35.00")),
        },
    ),
}


@pytest.mark.parametrize(
    ("card", "work_type", "duration", "expected"),
    [
        # it-hafen.yaml
        ("special-support", "special_support", "15m", "0.00"),
        ("special-support", "special_support", "16m", "30.00"),
        ("special-support", "special_support", "31m", "60.00"),
        ("critical-incident", "critical_incident", "1m", "10.00"),
        ("critical-incident", "restore", "14m", "30.00"),
        # webosa.yaml
        ("webosa", "it_support", "40m", "140.00"),
        ("webosa", "basic_support", "30m", "50.00"),
        ("webosa", "consultancy", "61m", "270.00"),
        ("webosa", "it_support", "20m", "70.00"),
        # cloudflux.yaml
        ("cloudflux", "special_support", "5m", "0.00"),
        ("cloudflux", "special_support", "6m", "35.00"),
        ("cloudflux", "special_support", "15m", "35.00"),
        ("cloudflux", "special_support", "16m", "70.00"),
        ("cloudflux", "install_assist", "61m", "175.00"),
    ],
)
def test_scenario_charges(card: str, work_type: str, duration: str, expected: str) -> None:
    assert charge(CARDS[card], work_type, parse_timedelta(duration)) == Decimal(expected)


@pytest.mark.parametrize(
    ("card", "work_type", "duration", "expected"),
    [
        # No work, no charge, with or without a free allowance.
        ("critical-incident", "restore", timedelta(0), "0.00"),
        ("webosa", "consultancy", timedelta(0), "0.00"),
        ("cloudflux", "special_support", timedelta(0), "0.00"),
        # One second of work is a commenced increment.
        ("critical-incident", "restore", timedelta(seconds=1), "10.00"),
        ("webosa", "basic_support", timedelta(seconds=1), "50.00"),
        # Exactly on an increment boundary, and a microsecond past it.
        ("critical-incident", "restore", timedelta(minutes=6), "10.00"),
        ("critical-incident", "restore", timedelta(minutes=6, microseconds=1), "20.00"),
        ("webosa", "consultancy", timedelta(hours=1), "180.00"),
        ("webosa", "consultancy", timedelta(hours=1, seconds=1), "270.00"),
        # The free allowance ends at its limit; past it the first minutes count too.
        ("special-support", "special_support", timedelta(minutes=15), "0.00"),
        ("special-support", "special_support", timedelta(minutes=15, seconds=1), "30.00"),
        ("cloudflux", "special_support", timedelta(minutes=5, seconds=1), "35.00"),
        ("cloudflux", "special_support", timedelta(minutes=30), "70.00"),
        # A working day of special support: 8 h / 6 min = 80 increments.
        ("special-support", "special_support", timedelta(hours=8), "800.00"),
    ],
)
def test_edge_charges(card: str, work_type: str, duration: timedelta, expected: str) -> None:
    assert charge(CARDS[card], work_type, duration) == Decimal(expected)


def test_price_reports_increments_and_unit_price() -> None:
    result = price(CARDS["webosa"], "it_support", timedelta(minutes=40))
    assert result == Charge(
        work_type="it_support",
        duration=timedelta(minutes=40),
        increments=2,
        unit_price=Decimal("70.00"),
        amount=Decimal("140.00"),
        free=False,
    )
    assert str(result.amount) == "140.00"


def test_free_work_is_marked_free() -> None:
    result = price(CARDS["cloudflux"], "special_support", timedelta(minutes=5))
    assert (result.increments, result.amount, result.free) == (0, Decimal("0.00"), True)
    assert str(result.amount) == "0.00"


def test_zero_duration_without_allowance_is_not_free() -> None:
    result = price(CARDS["critical-incident"], "restore", timedelta(0))
    assert (result.increments, str(result.amount), result.free) == (0, "0.00", False)


def test_unit_price_keeps_more_than_two_places() -> None:
    # 100.00 per hour in 7-minute increments: 11.666... per increment; three of
    # them are exactly 35.00, which only exact arithmetic gets right.
    card = RateCard("EUR", timedelta(minutes=7), {"x": Rate(per_hour=Decimal("100.00"))})
    result = price(card, "x", timedelta(minutes=15))
    assert result.increments == 3
    assert result.unit_price.quantize(Decimal("0.000001")) == Decimal("11.666667")
    assert result.amount == Decimal("35.00")
    # Two increments: 23.333... rounds to 23.33.
    assert charge(card, "x", timedelta(minutes=14)) == Decimal("23.33")


def test_rounds_once_half_up() -> None:
    # 0.05 per hour in 6-minute increments is 0.005 per increment: one
    # increment rounds up to 0.01; three are 0.015 and round to 0.02, not to
    # three rounded increments (0.03).
    card = RateCard("EUR", timedelta(minutes=6), {"x": Rate(per_hour=Decimal("0.05"))})
    assert price(card, "x", timedelta(minutes=6)).unit_price == Decimal("0.005")
    assert charge(card, "x", timedelta(minutes=6)) == Decimal("0.01")
    assert charge(card, "x", timedelta(minutes=18)) == Decimal("0.02")
    assert charge(card, "x", timedelta(minutes=24)) == Decimal("0.02")


def test_unknown_work_type() -> None:
    with pytest.raises(UnknownWorkType) as caught:
        charge(CARDS["webosa"], "webmaster", timedelta(minutes=30))
    assert isinstance(caught.value, KeyError)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == (
        "unknown work type 'webmaster': the rate card has rates for "
        "basic_support, consultancy, it_support"
    )


def test_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        charge(CARDS["webosa"], "it_support", timedelta(minutes=-1))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"per_hour": Decimal("1.00"), "per_increment": Decimal("1.00")},
    ],
)
def test_rate_needs_exactly_one_price(kwargs: dict[str, Decimal]) -> None:
    with pytest.raises(ValueError, match="exactly one of per_hour or per_increment"):
        Rate(**kwargs)


def test_rate_refuses_floats_and_negative_amounts() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        Rate(per_hour=140.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-negative"):
        Rate(per_increment=Decimal("-10.00"))


@pytest.mark.parametrize("increment", [timedelta(0), timedelta(minutes=-6)])
def test_rate_card_needs_a_positive_increment(increment: timedelta) -> None:
    with pytest.raises(ValueError, match="increment must be positive"):
        RateCard("EUR", increment, {})


def test_rate_card_refuses_negative_allowance() -> None:
    with pytest.raises(ValueError, match="free_up_to"):
        RateCard("EUR", timedelta(minutes=6), {}, free_up_to=timedelta(minutes=-1))


durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3))
card_names = st.sampled_from(
    [
        ("special-support", "special_support"),
        ("critical-incident", "restore"),
        ("webosa", "it_support"),
        ("webosa", "consultancy"),
        ("cloudflux", "install_assist"),
    ]
)


@given(card_names, durations, durations)
def test_charge_is_monotonic_in_duration(
    name: tuple[str, str], first: timedelta, second: timedelta
) -> None:
    card, work_type = CARDS[name[0]], name[1]
    shorter, longer = sorted((first, second))
    assert charge(card, work_type, shorter) <= charge(card, work_type, longer)


@given(card_names, durations)
def test_charge_is_whole_increments(name: tuple[str, str], duration: timedelta) -> None:
    card, work_type = CARDS[name[0]], name[1]
    result = price(card, work_type, duration)
    if card.free_up_to is not None and duration <= card.free_up_to:
        assert result.free
        assert result.amount == 0
        return
    # Every commenced increment is charged in full: no fewer increments than
    # the work needs and not a whole one more.
    assert result.increments * card.increment >= duration
    assert (result.increments - 1) * card.increment < duration or duration == timedelta(0)
    assert result.amount == result.unit_price * result.increments
    assert result.amount % result.unit_price == 0
    assert result.amount == result.amount.quantize(Decimal("0.01"))
