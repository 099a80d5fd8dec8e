"""Helpdesk rules over plain values: SLA clock states and what time is billable.

Seed 002 §2: "Response Time Definition: The response time is the period within
which Webosa responds to a detected or reported incident." Seed 002 §1.4:
"The resolution of service incidents by Webosa is included as standard within
this SLA and is provided free of charge." Seed 002 §1.5: if a report "did not
concern an actual incident, Webosa reserves the right to charge the applicable
IT Support hourly rate".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# Which ticket timestamp meets which kind of target.
ACHIEVED_BY = {
    "initial_response": "first_response_at",
    "response": "first_response_at",
    "diagnosis": "diagnosed_at",
    "restoration": "restored_at",
}
WARN_AT = 0.75  # "breaching soon" once three quarters of a target are used


class ClockState(StrEnum):
    """Where one SLA clock stands."""

    NOT_STARTED = "not_started"  # counts from diagnosis, which has not happened
    RUNNING = "running"
    WARNING = "warning"  # running, most of the time used
    PAUSED = "paused"  # waiting for the customer
    MET = "met"
    BREACHED = "breached"


@dataclass(frozen=True)
class Clock:
    """One target of one ticket."""

    target: str
    within: timedelta
    deadline: datetime | None
    achieved_at: datetime | None
    state: ClockState
    used: float | None  # share of the target used, 0..1+ (None: not started)


def clock_state(
    deadline: datetime | None,
    achieved_at: datetime | None,
    now: datetime,
    *,
    paused: bool,
    used: float | None,
) -> ClockState:
    """The state of a clock from its deadline, when it was met, and the time used."""
    if deadline is None:
        return ClockState.NOT_STARTED
    if achieved_at is not None:
        return ClockState.MET if achieved_at <= deadline else ClockState.BREACHED
    if now > deadline:
        return ClockState.BREACHED
    if paused:
        return ClockState.PAUSED
    if used is not None and used >= WARN_AT:
        return ClockState.WARNING
    return ClockState.RUNNING


def is_billable(
    *, kind: str, out_of_scope: bool, work_type: str, priced_work_types: frozenset[str]
) -> bool:
    """Whether recorded time is charged: only work the contract's rate card prices,
    and never the resolution of a real incident (seed 002 §1.4), unless the report
    turned out not to be one (seed 002 §1.5)."""
    if work_type not in priced_work_types:
        return False
    return kind != "incident" or out_of_scope
