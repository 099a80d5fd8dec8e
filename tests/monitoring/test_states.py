"""The check state machine: soft/hard, dependencies, flapping."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leitstand.monitoring.states import (
    CheckState,
    Event,
    EventKind,
    Status,
    advance,
    percent_state_change,
)

OK, WARN, CRIT, UNK, PEND, UNREACH = (
    Status.OK,
    Status.WARNING,
    Status.CRITICAL,
    Status.UNKNOWN,
    Status.PENDING,
    Status.UNREACHABLE,
)


def run(results: list[Status], start: CheckState | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
    state = start or CheckState()
    seen: list[list[Event]] = []
    for observed in results:
        state, events = advance(state, observed, **kwargs)  # type: ignore[arg-type]
        seen.append(events)
    return state, seen


def hard_changes(seen: list[list[Event]]) -> list[tuple[int, Status, Status]]:
    return [
        (i, e.old, e.new)
        for i, events in enumerate(seen)
        for e in events
        if e.kind == EventKind.STATE
    ]


@pytest.mark.parametrize(
    ("results", "max_attempts", "expected_state", "expected_hard", "changes"),
    [
        # first OK is not an event (pending -> ok is just the start)
        ([OK], 3, OK, OK, []),
        # a failure is soft twice, hard on the third attempt
        ([OK, CRIT, CRIT], 3, CRIT, OK, []),
        ([OK, CRIT, CRIT, CRIT], 3, CRIT, CRIT, [(3, OK, CRIT)]),
        # a soft failure that recovers raises nothing
        ([OK, CRIT, CRIT, OK], 3, OK, OK, []),
        # recovery from a hard failure is hard at once
        ([OK, CRIT, CRIT, CRIT, OK], 3, OK, OK, [(3, OK, CRIT), (4, CRIT, OK)]),
        # warning -> critical once hard is hard at once
        ([OK, WARN, WARN, WARN, CRIT], 3, CRIT, CRIT, [(3, OK, WARN), (4, WARN, CRIT)]),
        # mixed failure states count as consecutive failures
        ([OK, WARN, CRIT, UNK], 3, UNK, UNK, [(3, OK, UNK)]),
        # max_attempts 1: every failure is hard at once
        ([OK, CRIT], 1, CRIT, CRIT, [(1, OK, CRIT)]),
        # never OK: pending -> critical after the attempts
        ([CRIT, CRIT, CRIT], 3, CRIT, CRIT, [(2, PEND, CRIT)]),
    ],
)
def test_soft_and_hard(
    results: list[Status],
    max_attempts: int,
    expected_state: Status,
    expected_hard: Status,
    changes: list[tuple[int, Status, Status]],
) -> None:
    state, seen = run(results, max_attempts=max_attempts)
    assert state.state == expected_state
    assert state.hard_state == expected_hard
    assert hard_changes(seen) == changes


def test_attempts_count_and_reset() -> None:
    state, _ = run([OK, CRIT, CRIT])
    assert state.attempt == 2
    assert state.is_soft
    state, _ = advance(state, OK)
    assert state.attempt == 0
    assert not state.is_soft


def test_unreachable_instead_of_down_while_the_parent_is_down() -> None:
    state, seen = run([OK, CRIT], parent_down=True)
    assert state.hard_state == UNREACH
    assert hard_changes(seen) == [(1, OK, UNREACH)]
    # the parent comes back, the service is still down: now it is really critical, at once
    state, events = advance(state, CRIT, parent_down=False)
    assert [(e.old, e.new) for e in events] == [(UNREACH, CRIT)]


def test_a_failure_waits_for_the_parents_first_result() -> None:
    state, seen = run([CRIT, CRIT, CRIT, CRIT], max_attempts=1, parent_pending=True)
    assert state.hard_state == PEND
    assert state.is_soft
    assert hard_changes(seen) == []
    state, events = advance(state, CRIT, max_attempts=1, parent_down=True)
    assert [(e.old, e.new) for e in events] == [(PEND, UNREACH)]


def test_an_ok_result_is_ok_even_when_the_parent_is_down() -> None:
    state, seen = run([OK, OK], parent_down=True)
    assert state.hard_state == OK
    assert hard_changes(seen) == []


def test_no_flapping_before_a_full_window() -> None:
    state, seen = run([OK, CRIT] * 10, max_attempts=1)  # 20 results, 19 changes
    assert not state.flapping
    assert EventKind.FLAPPING_START not in [e.kind for events in seen for e in events]


def test_flapping_starts_and_stops() -> None:
    alternating = [OK, CRIT] * 11
    state, seen = run(alternating, max_attempts=1)
    kinds = [e.kind for events in seen for e in events]
    assert EventKind.FLAPPING_START in kinds
    assert state.flapping
    flagged = [e for events in seen for e in events if e.kind == EventKind.STATE and e.flapping]
    assert flagged  # changes while flapping are flagged for alerting
    calm, seen = run([OK] * 21, start=state, max_attempts=1)
    assert not calm.flapping
    # the run ended critical: the first OK is a recovery, later the flapping stops
    assert [e.kind for events in seen for e in events] == [
        EventKind.STATE,
        EventKind.FLAPPING_STOP,
    ]


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ((), 0.0),
        ((OK,), 0.0),
        ((OK,) * 21, 0.0),
        ((OK, CRIT) * 10 + (OK,), 100.0),
        ((OK,) * 20 + (CRIT,), 6.0),  # one transition, the newest: weight 1.2 of 20
        ((CRIT,) + (OK,) * 20, 4.0),  # one transition, the oldest: weight 0.8 of 20
    ],
)
def test_percent_state_change(history: tuple[Status, ...], expected: float) -> None:
    assert percent_state_change(history) == pytest.approx(expected)


@pytest.mark.parametrize("bad", [PEND, UNREACH])
def test_results_cannot_be_pending_or_unreachable(bad: Status) -> None:
    with pytest.raises(ValueError, match="cannot be"):
        advance(CheckState(), bad)


def test_max_attempts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        advance(CheckState(), OK, max_attempts=0)


results = st.lists(st.sampled_from([OK, WARN, CRIT, UNK]), max_size=60)


@given(results, st.integers(min_value=1, max_value=5))
def test_properties(observed: list[Status], max_attempts: int) -> None:
    state, seen = run(observed, max_attempts=max_attempts)
    # history is bounded and ends with the last result
    assert len(state.history) <= 21
    if observed:
        assert state.state == observed[-1]
        assert state.history[-1] == observed[-1]
    # every hard change starts where the previous one ended
    changes = hard_changes(seen)
    for (_, _, new), (_, old, _) in itertools.pairwise(changes):
        assert old == new
    # a hard problem is only ever confirmed by max_attempts failures in a row or a prior problem
    for i, old, new in changes:
        if old in (OK, PEND) and new.is_problem:
            assert all(r.is_problem for r in observed[max(0, i - max_attempts + 1) : i + 1])
            assert i + 1 >= max_attempts
