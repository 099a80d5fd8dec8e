"""Automatic restart of watched units, at most N times in a row, then escalate.

Seed 001 §5.2: "wird zusätzlich für einen Zeitraum von 120s keinerlei
Netzwerk- und / oder Festplattenaktivität der VM registriert, so wird die VM
... neu gestartet. Dieser Vorgang wird höchstens 3x hintereinander
durchgeführt." The agent applies the same rule
(:func:`~leitstand_agent.rules.restart_policy.decide_restart`) to the units of
its watch list: a unit down for ``silence`` is restarted; after
``max_consecutive`` restarts without recovery the agent stops trying and
reports ``escalate`` so that a person is called.

The counters live in memory: after an agent restart a unit gets a fresh series,
which errs on the side of one more restart attempt, not one fewer alarm (the
server sees every restart in ``restart_actions``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leitstand_agent import cmd
from leitstand_agent.config import RestartSettings
from leitstand_agent.rules.restart_policy import RestartDecision, decide_restart


@dataclass
class UnitWatch:
    """What the agent knows about one watched unit."""

    down_since: datetime | None = None
    up_since: datetime | None = None
    consecutive: int = 0
    escalated: bool = False
    unknown: bool = False


def systemctl_is_active(unit: str) -> bool:
    """Whether ``unit`` is active (``systemctl is-active`` exits 0 only then)."""
    systemctl = cmd.which("systemctl")
    if systemctl is None:
        raise cmd.CommandError("systemctl is not installed")
    return cmd.run([systemctl, "is-active", "--quiet", "--", unit], timeout=20.0).returncode == 0


def systemctl_restart(unit: str) -> str:
    """Restart ``unit``; ``""`` on success, else what went wrong."""
    systemctl = cmd.which("systemctl")
    if systemctl is None:
        return "systemctl is not installed"
    result = cmd.run([systemctl, "restart", "--", unit], timeout=300.0)
    if result.returncode == 0:
        return ""
    return (result.stderr or result.stdout).decode("utf-8", "replace").strip() or (
        f"systemctl restart exited with {result.returncode}"
    )


@dataclass
class RestartWatcher:
    """Checks the watched units and restarts or escalates per the restart policy."""

    settings: RestartSettings
    is_active: Callable[[str], bool] = systemctl_is_active
    restart: Callable[[str], str] = systemctl_restart
    units: dict[str, UnitWatch] = field(default_factory=dict)

    def check(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """One round; the ``restart_actions`` records of what was done."""
        now = now or datetime.now(UTC)
        policy = self.settings.policy
        records: list[dict[str, Any]] = []
        for unit in self.settings.units:
            watch = self.units.setdefault(unit, UnitWatch())
            try:
                active = self.is_active(unit)
            except cmd.CommandError as exc:
                if not watch.unknown:  # once per outage, not every round
                    records.append(self._record(unit, "unknown", now, str(exc)))
                watch.unknown = True
                continue
            watch.unknown = False
            if active:
                watch.down_since = None
                watch.up_since = watch.up_since or now
                # Up for a whole silence period: the series "hintereinander" is over.
                if now - watch.up_since >= policy.silence:
                    watch.consecutive, watch.escalated = 0, False
                continue
            watch.up_since = None
            watch.down_since = watch.down_since or now
            decision = decide_restart(policy, watch.down_since, now, watch.consecutive)
            if decision is RestartDecision.RESTART:
                error = self.restart(unit)
                watch.consecutive += 1
                # The next attempt only after another silence period.
                watch.down_since = now
                records.append(
                    self._record(unit, str(decision), now, error, attempt=watch.consecutive)
                )
            elif decision is RestartDecision.ESCALATE and not watch.escalated:
                watch.escalated = True
                records.append(
                    self._record(unit, str(decision), now, "", attempt=watch.consecutive)
                )
        return records

    @staticmethod
    def _record(
        unit: str, decision: str, now: datetime, error: str, attempt: int | None = None
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "unit": unit,
            "decision": decision,
            "at": now.astimezone(UTC).isoformat(timespec="seconds"),
            "error": error,
        }
        if attempt is not None:
            record["attempt"] = attempt
        return record
