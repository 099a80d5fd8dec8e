"""Automatic restart of a silent machine (operations/restart_policy.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leitstand.operations.restart_policy import RestartDecision, RestartPolicy, decide_restart

# seed 001 §5.2 "für einen Zeitraum von 120s ... höchstens 3x hintereinander"
VM_HA = RestartPolicy(silence=timedelta(seconds=120), max_consecutive=3)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("silent_since", "moment", "consecutive", "expected"),
    [
        # managedhosting.yaml
        ("2026-11-20T03:00:00+01:00", "2026-11-20T03:01:30+01:00", 0, "wait"),
        ("2026-11-20T03:00:00+01:00", "2026-11-20T03:02:00+01:00", 2, "restart"),
        ("2026-11-20T03:00:00+01:00", "2026-11-20T03:05:00+01:00", 3, "escalate"),
    ],
)
def test_scenario_restarts(silent_since: str, moment: str, consecutive: int, expected: str) -> None:
    assert str(decide_restart(VM_HA, at(silent_since), at(moment), consecutive)) == expected


@pytest.mark.parametrize(
    ("silent_since", "moment", "consecutive", "expected"),
    [
        ("2026-11-20T03:00:00+01:00", "2026-11-20T03:01:59+01:00", 0, RestartDecision.WAIT),
        ("2026-11-20T03:00:00+01:00", "2026-11-20T03:02:00+01:00", 0, RestartDecision.RESTART),
        # Still silent for less than 120 s: wait, even when the limit is reached.
        ("2026-11-20T03:00:00+01:00", "2026-11-20T03:01:00+01:00", 3, RestartDecision.WAIT),
        ("2026-11-20T03:00:00+01:00", "2026-11-20T03:02:00+01:00", 5, RestartDecision.ESCALATE),
        # Activity in the future (clock skew): nothing to do yet.
        ("2026-11-20T03:00:00+01:00", "2026-11-20T02:59:00+01:00", 0, RestartDecision.WAIT),
        # Different offsets, same moments: 02:00 UTC is 03:00+01:00.
        ("2026-11-20T02:00:00+00:00", "2026-11-20T03:01:59+01:00", 0, RestartDecision.WAIT),
        ("2026-11-20T02:00:00+00:00", "2026-11-20T03:02:00+01:00", 0, RestartDecision.RESTART),
    ],
)
def test_edge_restarts(
    silent_since: str, moment: str, consecutive: int, expected: RestartDecision
) -> None:
    assert decide_restart(VM_HA, at(silent_since), at(moment), consecutive) is expected


def test_silence_is_real_time_across_the_autumn_clock_change() -> None:
    # 02:59 CEST to the second 02:01 (CET) is 2 real minutes, although the
    # wall clock went back by 58.
    berlin = ZoneInfo("Europe/Berlin")
    silent_since = datetime(2026, 10, 25, 2, 59, tzinfo=berlin)
    moment = datetime(2026, 10, 25, 2, 1, fold=1, tzinfo=berlin)
    assert decide_restart(VM_HA, silent_since, moment, 1) is RestartDecision.RESTART


def test_no_automatic_restart_allowed() -> None:
    never = RestartPolicy(silence=timedelta(seconds=120), max_consecutive=0)
    start = at("2026-11-20T03:00:00+01:00")
    assert decide_restart(never, start, start + timedelta(minutes=5), 0) is RestartDecision.ESCALATE


def test_bad_input() -> None:
    start = at("2026-11-20T03:00:00+01:00")
    with pytest.raises(ValueError, match="consecutive_restarts"):
        decide_restart(VM_HA, start, start, -1)
    with pytest.raises(ValueError, match="time zone"):
        decide_restart(VM_HA, datetime(2026, 11, 20, 3, 0), start, 0)
    with pytest.raises(ValueError, match="max_consecutive"):
        RestartPolicy(silence=timedelta(seconds=120), max_consecutive=-1)
    with pytest.raises(ValueError, match="silence"):
        RestartPolicy(silence=timedelta(seconds=-1), max_consecutive=3)


@given(
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=2)),
    st.integers(min_value=0, max_value=10),
)
def test_restarts_stop_at_the_limit(silent_for: timedelta, consecutive: int) -> None:
    start = at("2026-11-20T03:00:00+01:00")
    decision = decide_restart(VM_HA, start, start + silent_for, consecutive)
    if silent_for < timedelta(seconds=120):
        assert decision is RestartDecision.WAIT
    elif consecutive < 3:
        assert decision is RestartDecision.RESTART
    else:
        assert decision is RestartDecision.ESCALATE
