"""The one-line SLA state of a ticket (portal/sla.py): pure, over plain clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leitstand.helpdesk.rules import Clock, ClockState
from leitstand.portal.sla import NO_SLA, order, summarise

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def clock(target: str, due: timedelta | None, state: ClockState, met: bool = False) -> Clock:
    deadline = None if due is None else NOW + due
    return Clock(
        target=target,
        within=H,
        deadline=deadline,
        achieved_at=(deadline - timedelta(minutes=1)) if met and deadline else None,
        state=state,
        used=None,
    )


@pytest.mark.parametrize(
    ("clocks", "target", "state", "remaining"),
    [
        ([], None, None, None),
        # the earliest pending deadline wins
        (
            [
                clock("diagnosis", 4 * H, ClockState.RUNNING),
                clock("response", H, ClockState.RUNNING),
            ],
            "response",
            ClockState.RUNNING,
            H,
        ),
        # a met clock is not the next one; the unmet one is
        (
            [
                clock("response", -H, ClockState.MET, met=True),
                clock("diagnosis", 2 * H, ClockState.WARNING),
            ],
            "diagnosis",
            ClockState.WARNING,
            2 * H,
        ),
        # a breached unmet clock beats an earlier running one
        (
            [
                clock("restoration", -H, ClockState.BREACHED),
                clock("response", -2 * H, ClockState.RUNNING),
            ],
            "restoration",
            ClockState.BREACHED,
            -H,
        ),
        # paused: the deadline is shown, the state says why it does not move
        ([clock("response", 3 * H, ClockState.PAUSED)], "response", ClockState.PAUSED, 3 * H),
        # counting from diagnosis, not started yet
        (
            [clock("restoration", None, ClockState.NOT_STARTED)],
            "restoration",
            ClockState.NOT_STARTED,
            None,
        ),
        # everything met: the summary says met, nothing remains
        ([clock("response", -H, ClockState.MET, met=True)], "response", ClockState.MET, None),
    ],
)
def test_summarise(
    clocks: list[Clock],
    target: str | None,
    state: ClockState | None,
    remaining: timedelta | None,
) -> None:
    summary = summarise(clocks, NOW)
    assert (summary.target, summary.state, summary.remaining) == (target, state, remaining)


def test_a_breach_met_late_is_reported_as_breached_when_nothing_is_pending() -> None:
    late = Clock("response", H, NOW - H, NOW, ClockState.BREACHED, 1.5)
    assert summarise([late], NOW).state == ClockState.BREACHED


def test_order_puts_breached_first_then_nearest_deadline_and_no_sla_last() -> None:
    a = summarise([clock("response", 3 * H, ClockState.RUNNING)], NOW)
    b = summarise([clock("response", H, ClockState.RUNNING)], NOW)
    c = summarise([clock("response", -H, ClockState.BREACHED)], NOW)
    d = summarise([clock("response", H / 2, ClockState.WARNING)], NOW)
    ranked = order([("a", a), ("none", NO_SLA), ("b", b), ("c", c), ("d", d)])
    assert [name for name, _ in ranked] == ["c", "d", "b", "a", "none"]


def test_labels_are_human() -> None:
    summary = summarise([clock("initial_response", -H, ClockState.BREACHED)], NOW)
    assert (summary.target_label, summary.label, summary.overdue) == (
        "initial response",
        "breached",
        True,
    )
