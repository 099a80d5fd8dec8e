"""Which months a claim filed today is in time for (reports/claims.py open_months)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leitstand.reports.claims import ClaimDecision, ClaimRule, decide_claim, open_months

# seed 002 §2.2: "within 14 calendar days following the end of the relevant month"
WEBOSA = ClaimRule(window_days=14, requires_reported_incident=True)


@pytest.mark.parametrize(
    ("rule", "today", "expected"),
    [
        (WEBOSA, date(2026, 12, 1), [(2026, 11)]),
        (WEBOSA, date(2026, 12, 14), [(2026, 11)]),
        (WEBOSA, date(2026, 12, 15), []),
        (WEBOSA, date(2026, 11, 30), []),
        # across the year boundary
        (WEBOSA, date(2027, 1, 3), [(2026, 12)]),
        # February has 28 days in 2027: the 14th of March is the last day
        (WEBOSA, date(2027, 3, 14), [(2027, 2)]),
        # a 45-day window keeps two months open at once
        (ClaimRule(45, False), date(2026, 12, 10), [(2026, 11), (2026, 10)]),
        # no window at all: no month is ever open
        (ClaimRule(0, False), date(2026, 12, 1), []),
    ],
)
def test_open_months(rule: ClaimRule, today: date, expected: list[tuple[int, int]]) -> None:
    assert open_months(rule, today) == expected


@given(
    today=st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31)),
    days=st.integers(0, 90),
)
def test_open_months_agree_with_decide_claim(today: date, days: int) -> None:
    """A month is open exactly when a claim with a reported incident would be accepted."""
    rule = ClaimRule(days, True)
    opened = set(open_months(rule, today))
    probe = today.replace(day=1)
    for _ in range(5):
        probe = (probe - timedelta(days=1)).replace(day=1)
        accepted = decide_claim(rule, probe.year, probe.month, today, 1) == ClaimDecision.ACCEPTED
        assert accepted is ((probe.year, probe.month) in opened)
