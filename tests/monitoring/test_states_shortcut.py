"""The state machine's shortcut for the unchanged OK case gives exactly what the
full fold gives, for any state and any result."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leitstand.monitoring.states import HISTORY, STEADY_OK, CheckState, Status, advance, fold

RESULTS = [Status.OK, Status.WARNING, Status.CRITICAL, Status.UNKNOWN]
STORED = [*RESULTS, Status.UNREACHABLE]

states = st.builds(
    CheckState,
    state=st.sampled_from([*STORED, Status.PENDING]),
    hard_state=st.sampled_from([*STORED, Status.PENDING]),
    attempt=st.integers(0, 5),
    flapping=st.booleans(),
    history=st.lists(st.sampled_from(STORED), max_size=HISTORY).map(tuple),
)
# States that are at, or one step from, the steady OK state: where the shortcut
# and the full fold could disagree if the shortcut were wrong.
near_steady = st.one_of(
    st.just(STEADY_OK),
    st.builds(
        CheckState,
        state=st.sampled_from([Status.OK, Status.WARNING]),
        hard_state=st.sampled_from([Status.OK, Status.PENDING]),
        attempt=st.integers(0, 1),
        flapping=st.booleans(),
        history=st.integers(HISTORY - 2, HISTORY).map(lambda n: (Status.OK,) * n),
    ),
)
flags = st.fixed_dictionaries(
    {
        "max_attempts": st.integers(1, 4),
        "parent_down": st.booleans(),
        "parent_pending": st.booleans(),
    }
)


@given(st.one_of(states, near_steady), st.sampled_from(RESULTS), flags)
def test_advance_equals_the_full_fold(
    current: CheckState, observed: Status, kwargs: dict[str, object]
) -> None:
    assert advance(current, observed, **kwargs) == fold(current, observed, **kwargs)  # type: ignore[arg-type]


@given(st.lists(st.sampled_from(RESULTS), max_size=60), flags)
def test_a_sequence_ends_in_the_same_state_either_way(
    observed: list[Status], kwargs: dict[str, object]
) -> None:
    fast = slow = CheckState()
    for result in observed:
        fast, fast_events = advance(fast, result, **kwargs)  # type: ignore[arg-type]
        slow, slow_events = fold(slow, result, **kwargs)  # type: ignore[arg-type]
        assert (fast, fast_events) == (slow, slow_events)


def test_a_steady_check_lands_on_the_shared_state_and_stays_there() -> None:
    state = CheckState()
    for _ in range(HISTORY):
        state, events = advance(state, Status.OK)
    assert state is STEADY_OK
    again, events = advance(state, Status.OK)
    assert again is STEADY_OK
    assert events == []


def test_a_steady_state_loaded_from_the_database_takes_the_shortcut() -> None:
    loaded = CheckState(Status.OK, Status.OK, 0, False, (Status.OK,) * HISTORY)
    assert loaded is not STEADY_OK
    assert advance(loaded, Status.OK) == (STEADY_OK, [])


def test_a_failure_leaves_the_steady_state() -> None:
    state, events = advance(STEADY_OK, Status.CRITICAL)
    assert (state.state, state.hard_state, state.attempt) == (Status.CRITICAL, Status.OK, 1)
    assert state.history == (Status.OK,) * (HISTORY - 1) + (Status.CRITICAL,)
    assert events == []


@pytest.mark.parametrize("function", [advance, fold])
def test_max_attempts_is_checked_on_both_paths(function: object) -> None:
    with pytest.raises(ValueError, match="max_attempts must be at least 1"):
        function(STEADY_OK, Status.OK, max_attempts=0)  # type: ignore[operator]
