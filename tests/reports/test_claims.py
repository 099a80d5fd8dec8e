"""When a penalty claim may be filed (reports/claims.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leitstand.reports.claims import ClaimDecision, ClaimRule, claim_deadline, decide_claim

# seed 002 §2.2: "within 14 calendar days following the end of the relevant month"
WEBOSA = ClaimRule(window_days=14, requires_reported_incident=True)
NO_CONDITION = ClaimRule(window_days=14, requires_reported_incident=False)


@pytest.mark.parametrize(
    ("month", "filed_on", "reported_incidents", "expected"),
    [
        # webosa.yaml
        ("2026-11", date(2026, 12, 14), 1, "accepted"),
        ("2026-11", date(2026, 12, 15), 2, "rejected:late"),
        ("2026-11", date(2026, 12, 3), 0, "rejected:no_reported_incident"),
        ("2026-11", date(2026, 11, 28), 1, "rejected:early"),
    ],
)
def test_scenario_claims(
    month: str, filed_on: date, reported_incidents: int, expected: str
) -> None:
    year, number = (int(part) for part in month.split("-"))
    assert str(decide_claim(WEBOSA, year, number, filed_on, reported_incidents)) == expected


@pytest.mark.parametrize(
    ("rule", "month", "filed_on", "reported_incidents", "expected"),
    [
        # The month's last day is still inside the month: too early.
        (WEBOSA, (2026, 11), date(2026, 11, 30), 1, ClaimDecision.REJECTED_EARLY),
        # The first day after the month is the first day to file.
        (WEBOSA, (2026, 11), date(2026, 12, 1), 1, ClaimDecision.ACCEPTED),
        # Filed in the month itself, before any incident: early wins.
        (WEBOSA, (2026, 11), date(2026, 11, 2), 0, ClaimDecision.REJECTED_EARLY),
        # Late wins over no reported incident.
        (WEBOSA, (2026, 11), date(2026, 12, 15), 0, ClaimDecision.REJECTED_LATE),
        # December: the window runs into the next year.
        (WEBOSA, (2026, 12), date(2027, 1, 14), 1, ClaimDecision.ACCEPTED),
        (WEBOSA, (2026, 12), date(2027, 1, 15), 1, ClaimDecision.REJECTED_LATE),
        # February in a leap year ends on the 29th.
        (WEBOSA, (2028, 2), date(2028, 2, 29), 1, ClaimDecision.REJECTED_EARLY),
        (WEBOSA, (2028, 2), date(2028, 3, 14), 1, ClaimDecision.ACCEPTED),
        (WEBOSA, (2028, 2), date(2028, 3, 15), 1, ClaimDecision.REJECTED_LATE),
        # ... and on the 28th otherwise.
        (WEBOSA, (2026, 2), date(2026, 3, 1), 1, ClaimDecision.ACCEPTED),
        (WEBOSA, (2026, 2), date(2026, 3, 14), 1, ClaimDecision.ACCEPTED),
        (WEBOSA, (2026, 2), date(2026, 3, 15), 1, ClaimDecision.REJECTED_LATE),
        # A 31-day month.
        (WEBOSA, (2026, 1), date(2026, 2, 14), 1, ClaimDecision.ACCEPTED),
        (WEBOSA, (2026, 1), date(2026, 2, 15), 1, ClaimDecision.REJECTED_LATE),
        # A claim filed a year later is late, not early.
        (WEBOSA, (2025, 11), date(2026, 11, 28), 1, ClaimDecision.REJECTED_LATE),
        # Without the incident condition, no incident is needed.
        (NO_CONDITION, (2026, 11), date(2026, 12, 3), 0, ClaimDecision.ACCEPTED),
        # A window of 0 days leaves no day to file on.
        (ClaimRule(0, True), (2026, 11), date(2026, 12, 1), 1, ClaimDecision.REJECTED_LATE),
    ],
)
def test_edge_claims(
    rule: ClaimRule,
    month: tuple[int, int],
    filed_on: date,
    reported_incidents: int,
    expected: ClaimDecision,
) -> None:
    assert decide_claim(rule, *month, filed_on, reported_incidents) is expected


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2026, 11, date(2026, 12, 14)),
        (2026, 12, date(2027, 1, 14)),
        (2026, 2, date(2026, 3, 14)),
        (2028, 2, date(2028, 3, 14)),
        (2026, 1, date(2026, 2, 14)),
    ],
)
def test_claim_deadline(year: int, month: int, expected: date) -> None:
    assert claim_deadline(WEBOSA, year, month) == expected


def test_decisions_print_as_the_scenario_files_do() -> None:
    assert [str(decision) for decision in ClaimDecision] == [
        "accepted",
        "rejected:early",
        "rejected:late",
        "rejected:no_reported_incident",
    ]


@pytest.mark.parametrize("month", [0, 13])
def test_bad_month(month: int) -> None:
    with pytest.raises(ValueError, match="bad month"):
        decide_claim(WEBOSA, 2026, month, date(2026, 12, 1), 1)


def test_bad_rule_and_count() -> None:
    with pytest.raises(ValueError, match="window_days"):
        ClaimRule(window_days=-1, requires_reported_incident=True)
    with pytest.raises(ValueError, match="reported_incidents"):
        decide_claim(WEBOSA, 2026, 11, date(2026, 12, 1), -1)


@given(
    st.integers(min_value=2000, max_value=2100),
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=-40, max_value=100),
)
def test_exactly_window_days_are_open(year: int, month: int, window: int, offset: int) -> None:
    # Counted from the first day of the next month: day 1 .. window are open.
    rule = ClaimRule(window_days=window, requires_reported_incident=False)
    next_month = date(year + month // 12, month % 12 + 1, 1)
    filed_on = next_month + timedelta(days=offset)
    decision = decide_claim(rule, year, month, filed_on, 0)
    if offset < 0:
        assert decision is ClaimDecision.REJECTED_EARLY
    elif offset < window:
        assert decision is ClaimDecision.ACCEPTED
    else:
        assert decision is ClaimDecision.REJECTED_LATE
