"""Automatic restart of a machine whose heartbeat is lost.

Seed 001 §5.2: "Fällt das Taktsignal der VMware Tools aus und wird zusätzlich
für einen Zeitraum von 120s keinerlei Netzwerk- und / oder Festplattenaktivität
der VM registriert, so wird die VM von vSphere HA neu gestartet. Dieser Vorgang
wird höchstens 3x hintereinander durchgeführt."

Pure rules over plain values, standard library only: the agent decides restarts
on the managed server itself; the server imports the same module as
:mod:`leitstand.operations.restart_policy`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum


@dataclass(frozen=True)
class RestartPolicy:
    """Silence before a restart, and how many restarts in a row are allowed.

    Seed 001 §5.2 "für einen Zeitraum von 120s keinerlei Netzwerk- und / oder
    Festplattenaktivität" (``silence``) and "höchstens 3x hintereinander"
    (``max_consecutive``).
    """

    silence: timedelta
    max_consecutive: int

    def __post_init__(self) -> None:
        if self.silence < timedelta(0):
            raise ValueError(f"silence must not be negative, not {self.silence}")
        if self.max_consecutive < 0:
            raise ValueError(f"max_consecutive must not be negative, not {self.max_consecutive}")


class RestartDecision(StrEnum):
    """What to do with a silent machine, as the scenario files print it."""

    WAIT = "wait"
    RESTART = "restart"
    # The limit is reached: no further automatic restart, a person is called.
    ESCALATE = "escalate"


def decide_restart(
    policy: RestartPolicy, silent_since: datetime, at: datetime, consecutive_restarts: int
) -> RestartDecision:
    """Decide at ``at`` about a machine silent since ``silent_since``.

    Seed 001 §5.2 "wird zusätzlich für einen Zeitraum von 120s keinerlei
    Netzwerk- und / oder Festplattenaktivität der VM registriert, so wird die
    VM ... neu gestartet. Dieser Vorgang wird höchstens 3x hintereinander
    durchgeführt.": silent for less than ``silence`` -> wait; otherwise, after
    ``max_consecutive`` restarts in a row -> escalate; else restart.
    """
    if consecutive_restarts < 0:
        raise ValueError(f"consecutive_restarts must not be negative, not {consecutive_restarts}")
    for name, moment in (("silent_since", silent_since), ("at", at)):
        if moment.utcoffset() is None:
            raise ValueError(f"{name} must carry a time zone, got {moment.isoformat()}")
    # In UTC: the difference of two moments of one ZoneInfo is wall-clock time.
    silent_for = at.astimezone(UTC) - silent_since.astimezone(UTC)
    if silent_for < policy.silence:
        return RestartDecision.WAIT
    if consecutive_restarts >= policy.max_consecutive:
        return RestartDecision.ESCALATE
    return RestartDecision.RESTART
