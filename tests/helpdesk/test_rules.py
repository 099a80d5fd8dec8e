"""SLA clock states and what is billable: pure tables."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leitstand.helpdesk.rules import ClockState, clock_state, is_billable

T = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
BEFORE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
AFTER = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("deadline", "achieved", "now", "paused", "used", "expected"),
    [
        (None, None, T, False, None, ClockState.NOT_STARTED),
        (T, BEFORE, AFTER, False, 0.5, ClockState.MET),
        (T, T, AFTER, False, 1.0, ClockState.MET),  # met exactly at the deadline
        (T, AFTER, AFTER, False, 1.5, ClockState.BREACHED),
        (T, None, AFTER, False, 1.5, ClockState.BREACHED),
        (T, None, AFTER, True, 1.5, ClockState.BREACHED),  # waiting does not undo a breach
        (T, None, BEFORE, True, 0.5, ClockState.PAUSED),
        (T, None, BEFORE, False, 0.74, ClockState.RUNNING),
        (T, None, BEFORE, False, 0.75, ClockState.WARNING),
    ],
)
def test_clock_state(
    deadline: datetime | None,
    achieved: datetime | None,
    now: datetime,
    paused: bool,
    used: float | None,
    expected: ClockState,
) -> None:
    assert clock_state(deadline, achieved, now, paused=paused, used=used) == expected


PRICED = frozenset({"it_support", "basic_support"})


@pytest.mark.parametrize(
    ("kind", "out_of_scope", "work_type", "expected"),
    [
        ("request", False, "it_support", True),
        ("incident", False, "it_support", False),  # seed 002 §1.4: incidents are free
        ("incident", True, "it_support", True),  # seed 002 §1.5: not an incident after all
        ("request", False, "coffee", False),  # not on the rate card: included
        ("change", False, "basic_support", True),
    ],
)
def test_is_billable(kind: str, out_of_scope: bool, work_type: str, expected: bool) -> None:
    assert (
        is_billable(
            kind=kind, out_of_scope=out_of_scope, work_type=work_type, priced_work_types=PRICED
        )
        is expected
    )
