"""The state machine of one check: soft and hard states, dependencies, flapping.

Pure functions over plain values, Nagios semantics that operators know:

- A failure is *soft* until it has been seen ``max_attempts`` times in a row
  (default 3); only a *hard* change is an event that alerts and opens tickets.
  A recovery, or a change between two failure states, is hard at once.
- A check whose parent (the host's ping, say) is hard down does not fail: it
  is *unreachable*. One host down gives one alarm, not thirty (issue 3:
  "a host that is down marks its services unreachable").
- A check that changes state too often is *flapping* (percent state change
  over the last 21 results, newer results weighted more, start above 50 %,
  stop below 25 %); its changes are still recorded but flagged, so alerting
  can hold back.

Seed 002 §1.5: "When a potential incident is detected, Webosa personnel are
notified automatically" -- the events produced here are that detection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

HISTORY = 21
FLAP_HIGH = 50.0
FLAP_LOW = 25.0


class Status(StrEnum):
    """A check's state as operators see it."""

    PENDING = "pending"  # never checked yet
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"
    UNREACHABLE = "unreachable"  # failing while its parent is down

    @property
    def is_problem(self) -> bool:
        """Anything but OK and PENDING."""
        return self not in (Status.OK, Status.PENDING)


class EventKind(StrEnum):
    """What happened."""

    STATE = "state"  # a hard state change
    FLAPPING_START = "flapping_start"
    FLAPPING_STOP = "flapping_stop"


@dataclass(frozen=True)
class CheckState:
    """Everything the state machine remembers about one check."""

    state: Status = Status.PENDING  # current state, soft or hard
    hard_state: Status = Status.PENDING
    attempt: int = 0  # consecutive failing results
    flapping: bool = False
    history: tuple[Status, ...] = field(default_factory=tuple)

    @property
    def is_soft(self) -> bool:
        """True while a failure has not yet been confirmed."""
        return self.state != self.hard_state


# A check that has been OK for a whole window: where nearly every check stays.
STEADY_OK = CheckState(Status.OK, Status.OK, 0, False, (Status.OK,) * HISTORY)


@dataclass(frozen=True)
class Event:
    """A change worth telling alerting and the helpdesk about."""

    kind: EventKind
    old: Status
    new: Status
    flapping: bool


def percent_state_change(history: tuple[Status, ...]) -> float:
    """Nagios' weighted percent state change: 0 (stable) to 100 (changes every run).

    Newer transitions weigh more (0.8 for the oldest up to 1.2 for the newest),
    so a check that has just calmed down stops flapping sooner.
    """
    if len(history) < 2:
        return 0.0
    transitions = len(history) - 1
    total = 0.0
    for i in range(transitions):
        if history[i] != history[i + 1]:
            weight = 0.8 + 0.4 * i / max(1, transitions - 1)
            total += weight
    return 100.0 * total / transitions


def advance(
    current: CheckState,
    observed: Status,
    *,
    max_attempts: int = 3,
    parent_down: bool = False,
    parent_pending: bool = False,
) -> tuple[CheckState, list[Event]]:
    """Fold one result into the check's state; return the new state and its events.

    ``parent_pending``: the parent has not been checked yet (the engine just
    started). A failure then stays soft: it might be the parent's, and the
    parent's first result decides.
    """
    if observed is Status.OK and (current is STEADY_OK or current == STEADY_OK):
        # OK again after a full window of OK: nothing changes (most checks, most
        # of the time). fold() gives the same state, built anew (the tests
        # compare both over generated states).
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        return STEADY_OK, []
    return fold(
        current,
        observed,
        max_attempts=max_attempts,
        parent_down=parent_down,
        parent_pending=parent_pending,
    )


def fold(
    current: CheckState,
    observed: Status,
    *,
    max_attempts: int = 3,
    parent_down: bool = False,
    parent_pending: bool = False,
) -> tuple[CheckState, list[Event]]:
    """:func:`advance` without its shortcut for the unchanged OK case."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    if observed in (Status.PENDING, Status.UNREACHABLE):
        raise ValueError(f"a check result cannot be {observed}")
    if parent_down and observed.is_problem:
        observed = Status.UNREACHABLE
    events: list[Event] = []
    if observed == Status.OK:
        attempt = 0
        hard = Status.OK
    elif current.hard_state.is_problem or observed == Status.UNREACHABLE:
        # Already confirmed down (or the parent is): every change is hard at once.
        attempt = current.attempt + 1
        hard = observed
    else:
        attempt = current.attempt + 1
        confirmed = attempt >= max_attempts and not parent_pending
        hard = observed if confirmed else current.hard_state
    history = (*current.history, observed)[-HISTORY:]
    # Judged over a full window only: two results and one change are not "100 %
    # state change", they are a check that has just started.
    # A history of one state has no change: skip the weighted walk (most checks,
    # most of the time -- this runs for every result).
    steady = len(set(history)) == 1
    change = percent_state_change(history) if len(history) == HISTORY and not steady else 0.0
    flapping = current.flapping
    if not flapping and change > FLAP_HIGH:
        flapping = True
        events.append(Event(EventKind.FLAPPING_START, current.state, observed, True))
    elif flapping and change < FLAP_LOW:
        flapping = False
        events.append(Event(EventKind.FLAPPING_STOP, current.state, observed, False))
    if hard != current.hard_state and not (
        current.hard_state == Status.PENDING and hard == Status.OK
    ):
        events.append(Event(EventKind.STATE, current.hard_state, hard, flapping))
    new = CheckState(observed, hard, attempt, flapping, history)
    if not events and new == STEADY_OK:
        new = STEADY_OK  # one shared object: the next run takes the shortcut by identity
    return new, events
