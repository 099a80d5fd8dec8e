"""What a missed availability promise pays (reports/claims.py compensation)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leitstand.reports.claims import (
    CompensationRule,
    CreditTier,
    availability_percent,
    compensation,
)

D = Decimal
TIERS = (
    CreditTier(D("99.9"), D("10")),
    CreditTier(D("99.5"), D("25")),
    CreditTier(D("99"), D("50")),
)
RULE = CompensationRule(target=D("99.9"), tiers=TIERS, cap=D("30"))


@pytest.mark.parametrize(
    ("availability", "fee", "credit", "amount", "capped"),
    [
        # the promise met exactly: no deviation, nothing paid
        (D("99.900"), D("200.00"), D("0"), D("0.00"), False),
        (D("100.000"), D("200.00"), D("0"), D("0.00"), False),
        # just below: the first tier
        (D("99.899"), D("200.00"), D("10"), D("20.00"), False),
        (D("99.500"), D("200.00"), D("10"), D("20.00"), False),
        (D("99.499"), D("200.00"), D("25"), D("50.00"), False),
        # 50 % by the scale, but the cap is 30 % of the fee
        (D("98.000"), D("200.00"), D("50"), D("60.00"), True),
        (D("0.000"), D("200.00"), D("50"), D("60.00"), True),
        # rounding half up to the cent, per claim: 10 % of 99.95 = 9.995
        (D("99.8"), D("99.95"), D("10"), D("10.00"), False),
        # a pro-rata fee of a partial month
        (D("99.7"), D("103.23"), D("10"), D("10.32"), False),
        # nothing measured confirms no deviation
        (None, D("200.00"), D("0"), D("0.00"), False),
        # a free package: nothing to credit
        (D("50"), D("0.00"), D("50"), D("0.00"), False),
    ],
)
def test_compensation_table(
    availability: Decimal | None, fee: Decimal, credit: Decimal, amount: Decimal, capped: bool
) -> None:
    result = compensation(RULE, fee, availability)
    assert result.credit_percent == credit
    assert result.amount == amount
    assert result.capped is capped
    assert result.deviation is (availability is not None and availability < D("99.9"))


def test_a_deviation_without_a_tier_for_it_pays_nothing() -> None:
    rule = CompensationRule(target=D("99.9"), tiers=(CreditTier(D("99"), D("10")),), cap=D("100"))
    result = compensation(rule, D("100.00"), D("99.5"))
    assert result.deviation
    assert result.amount == D("0.00")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": D("0"), "tiers": (), "cap": D("10")}, "target"),
        ({"target": D("100.1"), "tiers": (), "cap": D("10")}, "target"),
        ({"target": D("99.9"), "tiers": (), "cap": D("101")}, "cap"),
        (
            {"target": D("99.9"), "tiers": (CreditTier(D("99.95"), D("10")),), "cap": D("10")},
            "target",
        ),
        (
            {"target": D("99.9"), "tiers": (CreditTier(D("99"), D("120")),), "cap": D("10")},
            "credit",
        ),
        (
            {"target": D("99.9"), "tiers": (CreditTier(D("99.1234"), D("1")),), "cap": D("10")},
            "decimal",
        ),
        (
            {
                "target": D("99.9"),
                "tiers": (CreditTier(D("99"), D("10")), CreditTier(D("99"), D("20"))),
                "cap": D("10"),
            },
            "same availability",
        ),
        # a longer outage must never pay less than a shorter one
        (
            {
                "target": D("99.9"),
                "tiers": (CreditTier(D("99.9"), D("25")), CreditTier(D("99"), D("10"))),
                "cap": D("50"),
            },
            "smaller",
        ),
    ],
)
def test_bad_rules_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CompensationRule(**kwargs)  # type: ignore[arg-type]


def test_a_negative_fee_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        compensation(RULE, D("-1.00"), D("90"))


@pytest.mark.parametrize(
    ("up", "counted", "expected"),
    [
        (0, 0, None),
        (3600, 3600, D("100.000")),
        # 2 hours down in a 30-day month: 99.7222... floored
        (718 * 3600, 720 * 3600, D("99.722")),
        # 99.8999 % must stay below 99.9 %, never be rounded up to it
        (998_999, 1_000_000, D("99.899")),
        (999_000, 1_000_000, D("99.900")),
    ],
)
def test_availability_percent(up: float, counted: float, expected: Decimal | None) -> None:
    assert availability_percent(up, counted) == expected


def test_availability_percent_refuses_impossible_values() -> None:
    with pytest.raises(ValueError, match="not within"):
        availability_percent(11, 10)
    with pytest.raises(ValueError, match="not within"):
        availability_percent(-1, 10)


fees = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False)
percents = st.decimals(min_value=0, max_value=100, places=3, allow_nan=False)


@given(fee=fees, availability=percents)
def test_never_more_than_the_cap_nor_negative(fee: Decimal, availability: Decimal) -> None:
    result = compensation(RULE, fee, availability)
    assert D("0") <= result.amount <= result.cap_amount
    assert result.amount == result.amount.quantize(D("0.01"))


@given(fee=fees, a=percents, b=percents)
def test_a_longer_outage_never_pays_less(fee: Decimal, a: Decimal, b: Decimal) -> None:
    worse, better = min(a, b), max(a, b)
    assert compensation(RULE, fee, worse).amount >= compensation(RULE, fee, better).amount


@given(up=st.integers(0, 10**7), extra=st.integers(0, 10**7))
def test_floored_percent_keeps_the_comparison_with_the_target(up: int, extra: int) -> None:
    counted = up + extra
    percent = availability_percent(up, counted)
    if percent is None:
        assert counted == 0
        return
    exact_below = D(up) * 1000 < D(counted) * 999  # up/counted < 99.9 %
    assert (percent < D("99.9")) is exact_below
