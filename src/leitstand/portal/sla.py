"""A ticket's SLA state in one line, for lists: the clock that matters next.

Seed 002 §2: "The response time is the period within which Webosa responds to a
detected or reported incident" -- a customer looking at open tickets wants the
next deadline and whether it is kept, not every clock. Pure over the clocks of
:func:`leitstand.helpdesk.actions.clocks`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext_lazy as _

from leitstand.helpdesk.rules import Clock, ClockState

STATE_LABELS = {
    ClockState.NOT_STARTED: _("not started"),
    ClockState.RUNNING: _("running"),
    ClockState.WARNING: _("due soon"),
    ClockState.PAUSED: _("paused, waiting for you"),
    ClockState.MET: _("met"),
    ClockState.BREACHED: _("breached"),
}
TARGET_LABELS = {
    "initial_response": _("initial response"),
    "response": _("response"),
    "diagnosis": _("diagnosis"),
    "restoration": _("restoration"),
    "resolution": _("resolution"),
}

# The order in which a list shows tickets: the worst first.
URGENCY = {
    ClockState.BREACHED: 0,
    ClockState.WARNING: 1,
    ClockState.RUNNING: 2,
    ClockState.PAUSED: 3,
    ClockState.NOT_STARTED: 4,
    ClockState.MET: 5,
}
PENDING = (ClockState.RUNNING, ClockState.WARNING, ClockState.PAUSED, ClockState.BREACHED)


@dataclass(frozen=True)
class TicketSla:
    """The clock to watch: its target, deadline, state and the time left (negative: over)."""

    target: str | None
    deadline: datetime | None
    state: ClockState | None  # None: the ticket has no SLA clocks
    remaining: timedelta | None

    @property
    def target_label(self) -> str:
        return str(TARGET_LABELS.get(self.target or "", self.target or ""))

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self.state]) if self.state else ""

    @property
    def overdue(self) -> bool:
        return self.remaining is not None and self.remaining < timedelta(0)


NO_SLA = TicketSla(None, None, None, None)


def summarise(clocks: Sequence[Clock], now: datetime) -> TicketSla:
    """The most urgent clock still to be met: a breached unmet one first, else the
    earliest pending deadline; when all are met or not started, the worst of those."""
    if not clocks:
        return NO_SLA
    pending = [c for c in clocks if c.achieved_at is None and c.state in PENDING and c.deadline]
    if pending:
        clock = min(pending, key=lambda c: (URGENCY[c.state] != 0, c.deadline))
    else:
        clock = min(clocks, key=lambda c: URGENCY[c.state])
    remaining = None
    if clock.deadline is not None and clock.achieved_at is None:
        remaining = clock.deadline - now
    return TicketSla(clock.target, clock.deadline, clock.state, remaining)


def order(rows: Iterable[tuple[object, TicketSla]]) -> list[tuple[object, TicketSla]]:
    """Tickets worst first, then by the nearest deadline; no SLA last."""

    def key(row: tuple[object, TicketSla]) -> tuple[int, float]:
        sla = row[1]
        rank = URGENCY.get(sla.state, 6) if sla.state else 7
        return (rank, sla.deadline.timestamp() if sla.deadline else float("inf"))

    return sorted(rows, key=key)
