"""When the provider may act on a customer's system without being asked.

Seed 001 §5.2: "Im Rahmen des Managed Service Pakets beauftragt der Kunde die
managedhosting.de GmbH damit, auch vorsorglich tätig zu werden ..., falls der
Kunde nicht oder nicht rechtzeitig auf Alarme oder Anfragen reagiert" and "Das
ist regelmäßig dann der Fall, wenn mehr als 3 Tage nach Alarm oder Anfrage ohne
Antwort oder Anweisung durch den Kunden vergehen oder sich Gefahr im Verzug
befindet."

Pure rules over plain values: no Django imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class InterventionRule:
    """How long an alarm must stay unanswered before the provider may act.

    Seed 001 §5.2 "mehr als 3 Tage nach Alarm oder Anfrage ohne Antwort":
    ``no_answer_for`` is real time (a day is 24 hours), and it must be
    exceeded, not merely reached.
    """

    no_answer_for: timedelta

    def __post_init__(self) -> None:
        if self.no_answer_for < timedelta(0):
            raise ValueError(f"no_answer_for must not be negative, not {self.no_answer_for}")


def _utc(moment: datetime, name: str) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone, got {moment.isoformat()}")
    # Subtracting two moments of the same ZoneInfo would use their wall
    # clocks; in UTC the difference is real elapsed time.
    return moment.astimezone(UTC)


def may_intervene(
    rule: InterventionRule,
    alarm_at: datetime,
    at: datetime,
    *,
    answered_at: datetime | None = None,
    danger: bool = False,
) -> bool:
    """Whether the provider may act on its own at ``at`` about the alarm of ``alarm_at``.

    Seed 001 §5.2 "wenn mehr als 3 Tage nach Alarm oder Anfrage ohne Antwort
    oder Anweisung durch den Kunden vergehen oder sich Gefahr im Verzug
    befindet": imminent danger allows action at once; an answer given by
    ``at`` blocks it; otherwise strictly more than ``no_answer_for`` must have
    passed since the alarm.
    """
    alarm = _utc(alarm_at, "alarm_at")
    now = _utc(at, "at")
    if danger:
        return True
    if answered_at is not None and _utc(answered_at, "answered_at") <= now:
        return False
    return now - alarm > rule.no_answer_for
