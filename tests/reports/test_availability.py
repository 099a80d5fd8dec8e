"""Availability from confirmed state changes, excluding announced maintenance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leitstand.reports.availability import availability

T0 = datetime(2026, 11, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


@pytest.mark.parametrize(
    ("state", "changes", "maintenance", "up_h", "down_h", "excluded_h"),
    [
        ("ok", [], [], 24, 0, 0),
        ("critical", [], [], 0, 24, 0),
        ("ok", [(h(10), "critical"), (h(12), "ok")], [], 22, 2, 0),
        # unreachable (host down) is down for the customer; warning and unknown are up
        (
            "ok",
            [(h(1), "unreachable"), (h(2), "warning"), (h(3), "unknown"), (h(4), "ok")],
            [],
            23,
            1,
            0,
        ),
        # an outage inside announced maintenance does not count at all
        ("ok", [(h(1), "critical"), (h(3), "ok")], [(h(0.5), h(3.5))], 21, 0, 3),
        # maintenance half over an outage
        ("ok", [(h(1), "critical"), (h(3), "ok")], [(h(2), h(5))], 20, 1, 3),
        # overlapping maintenance announcements are merged, not counted twice
        ("ok", [], [(h(1), h(3)), (h(2), h(4))], 21, 0, 3),
        # time before the first result is not counted
        ("pending", [(h(6), "ok")], [], 18, 0, 6),
        # changes outside the period are ignored
        ("ok", [(h(-5), "critical"), (h(30), "critical")], [], 24, 0, 0),
    ],
)
def test_availability(
    state: str,
    changes: list[tuple[datetime, str]],
    maintenance: list[tuple[datetime, datetime]],
    up_h: float,
    down_h: float,
    excluded_h: float,
) -> None:
    result = availability(T0, T0 + DAY, state, changes, maintenance)
    assert result.up == timedelta(hours=up_h)
    assert result.down == timedelta(hours=down_h)
    assert result.excluded == timedelta(hours=excluded_h)


def test_ratio() -> None:
    result = availability(T0, T0 + DAY, "ok", [(h(10), "critical"), (h(10.24), "ok")])
    assert result.ratio == pytest.approx(0.99)
    assert availability(T0, T0 + DAY, "pending", []).ratio is None


def test_a_period_must_not_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        availability(T0, T0 - DAY, "ok", [])


states = st.sampled_from(["ok", "warning", "critical", "unknown", "unreachable", "pending"])
hours = st.floats(min_value=-5, max_value=30, allow_nan=False)


@given(
    states,
    st.lists(st.tuples(hours, states), max_size=12),
    st.lists(st.tuples(hours, hours), max_size=4),
)
def test_up_down_and_excluded_add_up_to_the_period(
    state: str, changes: list[tuple[float, str]], windows: list[tuple[float, float]]
) -> None:
    result = availability(
        T0,
        T0 + DAY,
        state,
        [(h(x), s) for x, s in changes],
        [(h(a), h(b)) for a, b in windows],
    )
    assert result.up + result.down + result.excluded == DAY
    assert min(result.up, result.down, result.excluded) >= timedelta()
