"""Licence limits and their use (operations/licences.py, seed 000 VI)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leitstand.operations.licences import Usage, UsageState, assess, limit


@pytest.mark.parametrize(
    ("plan", "extras", "expected"),
    [
        (25, [], 25),  # "determined by the booked service type"
        (25, [10], 35),  # accounts-10 add-on
        (25, [10, 10, 0], 45),
        (None, [10], None),  # no limit stays no limit
        (0, [], 0),
    ],
)
def test_limit(plan: int | None, extras: list[int], expected: int | None) -> None:
    assert limit(plan, extras) == expected


@pytest.mark.parametrize(
    ("used", "permitted", "state"),
    [
        (5, None, UsageState.UNLIMITED),
        (None, 25, UsageState.UNKNOWN),
        (0, 25, UsageState.OK),
        (22, 25, UsageState.OK),
        (23, 25, UsageState.NEAR),  # 92 %
        (25, 25, UsageState.AT_LIMIT),
        (26, 25, UsageState.OVER),
        (0, 0, UsageState.AT_LIMIT),
        (1, 0, UsageState.OVER),
    ],
)
def test_assess(used: int | None, permitted: int | None, state: UsageState) -> None:
    assert assess(used, permitted) == state


def test_percent_is_capped_for_the_bar() -> None:
    assert Usage(30, 25).percent == 100
    assert Usage(5, 25).percent == 20
    assert Usage(None, 25).percent is None
    assert Usage(3, None).percent is None


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_over_exactly_when_used_exceeds_the_limit(used: int, permitted: int) -> None:
    assert (assess(used, permitted) == UsageState.OVER) == (used > permitted)
