"""Invoice arithmetic: VAT treatment, proration, per-ticket pricing, totals that add up."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leitstand.billing.charges import Rate, RateCard
from leitstand.billing.invoicing import (
    Line,
    Vat,
    VatTreatment,
    WorkedTime,
    active_days,
    fee_line,
    time_lines,
    totals,
    vat_for,
)

STANDARD = Vat(Decimal("19"), VatTreatment.STANDARD)


@pytest.mark.parametrize(
    ("country", "business", "vat_id", "rate", "treatment"),
    [
        ("DE", True, "DE123456789", "19", "standard"),
        ("DE", False, "", "19", "standard"),
        ("NL", True, "NL123456789B01", "0", "reverse_charge"),
        ("NL", True, "", "19", "standard"),  # no VAT ID: no reverse charge
        ("FR", False, "", "19", "standard"),  # a private customer in the EU
        ("CH", True, "CHE-123.456.789", "0", "not_taxable"),
        ("us", True, "", "0", "not_taxable"),
    ],
)
def test_vat_for(country: str, business: bool, vat_id: str, rate: str, treatment: str) -> None:
    assert vat_for(country, is_business=business, vat_id=vat_id) == Vat(
        Decimal(rate), VatTreatment(treatment)
    )


@pytest.mark.parametrize(
    ("starts", "ends", "days"),
    [
        (date(2026, 1, 1), None, 30),
        (date(2026, 11, 16), None, 15),
        (date(2026, 12, 1), None, 0),
        (date(2025, 1, 1), date(2026, 11, 10), 10),
        (date(2025, 1, 1), date(2026, 10, 31), 0),
    ],
)
def test_active_days_in_november(starts: date, ends: date | None, days: int) -> None:
    assert active_days(starts, ends, 2026, 11) == days


def test_fee_is_prorated_by_days_and_rounded_per_line() -> None:
    full = fee_line(
        "MSP",
        Decimal("99.00"),
        starts=date(2026, 1, 1),
        ends=None,
        year=2026,
        month=11,
        vat=STANDARD,
    )
    half = fee_line(
        "MSP",
        Decimal("99.00"),
        starts=date(2026, 11, 16),
        ends=None,
        year=2026,
        month=11,
        vat=STANDARD,
    )
    none = fee_line(
        "MSP",
        Decimal("99.00"),
        starts=date(2026, 12, 1),
        ends=None,
        year=2026,
        month=11,
        vat=STANDARD,
    )
    assert full is not None
    assert (full.quantity, full.net, full.vat) == (
        Decimal(1),
        Decimal("99.00"),
        Decimal("18.81"),
    )
    assert half is not None
    assert half.net == Decimal("49.50")
    assert none is None


CARD = RateCard(
    currency="EUR",
    increment=timedelta(minutes=6),
    free_up_to=timedelta(minutes=15),
    rates={"special_support": Rate(per_increment=Decimal("10.00"))},
)


def test_time_is_priced_per_ticket_not_per_entry() -> None:
    work = [
        WorkedTime("T-1", "special_support", 600, True),  # 10 min
        WorkedTime("T-1", "special_support", 360, True),  # + 6 min = 16 min: over the free 15
        WorkedTime("T-2", "special_support", 840, True),  # 14 min alone: free
        WorkedTime("T-3", "special_support", 3600, False),  # included work
        WorkedTime("T-4", "lunch", 600, True),  # not on the card: shown as included
    ]
    lines = {(line.reference, line.included): line for line in time_lines(work, CARD, STANDARD)}
    assert lines[("T-1", False)].net == Decimal("30.00")  # 3 x 6 min
    assert lines[("T-1", False)].quantity == 3
    assert lines[("T-2", True)].net == Decimal("0.00")
    assert lines[("T-3", True)].net == Decimal("0.00")
    assert lines[("T-4", True)].net == Decimal("0.00")


amounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("10000"), places=4)
quantities = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=3)


@given(
    st.lists(
        st.tuples(
            quantities, amounts, st.sampled_from([Decimal("19"), Decimal("7"), Decimal("0")])
        ),
        max_size=30,
    )
)
def test_totals_are_the_sum_of_rounded_lines(items: list[tuple[Decimal, Decimal, Decimal]]) -> None:
    lines = [Line(f"x{i}", q, "unit", p, r, "fee") for i, (q, p, r) in enumerate(items)]
    result = totals(lines)
    assert result.net == sum((line.net for line in lines), Decimal("0.00"))
    assert result.vat == sum(result.line_vat, Decimal("0.00"))
    assert result.gross == result.net + result.vat
    for line, vat in zip(lines, result.line_vat, strict=True):
        assert line.net == line.net.quantize(Decimal("0.01"))
        assert vat == vat.quantize(Decimal("0.01"))
        # Every line stays within a cent of its exact VAT.
        assert abs(vat - line.net * line.vat_rate / 100) < Decimal("0.01")
    # EN 16931 BR-CO-17: the VAT of a rate is its net sum times the rate, rounded.
    for rate, (basis, tax) in result.by_rate.items():
        assert tax == (basis * rate / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert sum((b for b, _ in result.by_rate.values()), Decimal("0.00")) == result.net


def test_vat_rounded_per_line_adds_up_to_the_vat_of_the_rate() -> None:
    # Ten lines of 0.03 at 19 %: each line alone rounds 0.0057 up to 0.01 (0.10 in
    # all), but the rate's VAT is 0.30 x 19 % = 0.057 -> 0.06 (EN 16931 BR-CO-17).
    lines = [
        Line(f"x{i}", Decimal(1), "item", Decimal("0.03"), Decimal(19), "fee") for i in range(10)
    ]
    result = totals(lines)
    assert result.vat == Decimal("0.06")
    assert result.by_rate[Decimal(19)] == (Decimal("0.30"), Decimal("0.06"))
    assert sorted(result.line_vat) == [Decimal("0.00")] * 4 + [Decimal("0.01")] * 6
    # The lines that give a cent back are the first ones, always the same.
    assert result.line_vat[:4] == (Decimal("0.00"),) * 4


def test_vat_allocation_leaves_exact_lines_alone() -> None:
    lines = [
        Line("a", Decimal(1), "month", Decimal("100.00"), Decimal(19), "fee"),
        Line("b", Decimal(1), "month", Decimal("50.00"), Decimal(7), "fee"),
    ]
    assert totals(lines).line_vat == (Decimal("19.00"), Decimal("3.50"))
