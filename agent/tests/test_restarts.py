"""Automatic restart of watched units: seed 001 §5.2 "120s" silence, "höchstens 3x hintereinander"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from leitstand_agent import cmd
from leitstand_agent.config import RestartSettings
from leitstand_agent.restarts import RestartWatcher
from leitstand_agent.rules.restart_policy import RestartPolicy

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


class Units:
    """Unit states the test sets, and the restarts the watcher asked for."""

    def __init__(self, **active: bool) -> None:
        self.active = active
        self.restarted: list[str] = []
        self.fail_with = ""

    def is_active(self, unit: str) -> bool:
        return self.active[unit]

    def restart(self, unit: str) -> str:
        self.restarted.append(unit)
        return self.fail_with


def watcher(units: Units, *names: str) -> RestartWatcher:
    settings = RestartSettings(names, RestartPolicy(timedelta(seconds=120), 3))
    return RestartWatcher(settings, is_active=units.is_active, restart=units.restart)


def decisions(w: RestartWatcher, at: datetime) -> list[tuple[str, str]]:
    return [(r["unit"], r["decision"]) for r in w.check(at)]


def test_active_units_are_left_alone() -> None:
    units = Units(**{"nginx.service": True})
    w = watcher(units, "nginx.service")
    assert decisions(w, T0) == []
    assert decisions(w, T0 + timedelta(hours=1)) == []
    assert units.restarted == []


def test_restart_after_120s_down_then_at_most_3_in_a_row_then_escalate() -> None:
    units = Units(**{"nginx.service": False})
    w = watcher(units, "nginx.service")
    assert decisions(w, T0) == []
    assert decisions(w, T0 + timedelta(seconds=119)) == []
    records = w.check(T0 + timedelta(seconds=120))
    assert records == [
        {
            "unit": "nginx.service",
            "decision": "restart",
            "at": "2026-11-22T10:02:00+00:00",
            "error": "",
            "attempt": 1,
        }
    ]
    # Still down: the next attempt only after another 120 s.
    assert decisions(w, T0 + timedelta(seconds=200)) == []
    assert decisions(w, T0 + timedelta(seconds=240)) == [("nginx.service", "restart")]
    assert decisions(w, T0 + timedelta(seconds=360)) == [("nginx.service", "restart")]
    assert decisions(w, T0 + timedelta(seconds=480)) == [("nginx.service", "escalate")]
    assert decisions(w, T0 + timedelta(seconds=600)) == []  # escalated once, not every round
    assert units.restarted == ["nginx.service"] * 3


def test_recovery_for_a_silence_period_starts_a_new_series() -> None:
    units = Units(**{"db.service": False})
    w = watcher(units, "db.service")
    w.check(T0)
    for minutes in (2, 4, 6):
        w.check(T0 + timedelta(minutes=minutes))
    assert len(units.restarted) == 3
    units.active["db.service"] = True
    w.check(T0 + timedelta(minutes=7))
    w.check(T0 + timedelta(minutes=9))  # up for 120 s
    units.active["db.service"] = False
    w.check(T0 + timedelta(minutes=10))
    assert decisions(w, T0 + timedelta(minutes=12)) == [("db.service", "restart")]


def test_short_recovery_does_not_reset_the_series() -> None:
    units = Units(**{"db.service": False})
    w = watcher(units, "db.service")
    w.check(T0)
    for minutes in (2, 4, 6):
        w.check(T0 + timedelta(minutes=minutes))
    units.active["db.service"] = True
    w.check(T0 + timedelta(minutes=7))  # up for a moment, crashes again
    units.active["db.service"] = False
    w.check(T0 + timedelta(minutes=7, seconds=30))
    assert decisions(w, T0 + timedelta(minutes=10)) == [("db.service", "escalate")]


def test_failed_restart_is_reported_with_the_error() -> None:
    units = Units(**{"php.service": False})
    units.fail_with = "Job for php.service failed."
    w = watcher(units, "php.service")
    w.check(T0)
    [record] = w.check(T0 + timedelta(seconds=120))
    assert (record["decision"], record["error"]) == ("restart", "Job for php.service failed.")


def test_unknown_state_is_reported_not_restarted() -> None:
    def broken(unit: str) -> bool:
        raise cmd.CommandError("systemctl: no answer within 20 s")

    units = Units()
    w = RestartWatcher(RestartSettings(("x.service",)), is_active=broken, restart=units.restart)
    assert w.check(T0) == [
        {
            "unit": "x.service",
            "decision": "unknown",
            "at": "2026-11-22T10:00:00+00:00",
            "error": "systemctl: no answer within 20 s",
        }
    ]
    assert w.check(T0 + timedelta(seconds=10)) == []  # reported once, not every round
    assert units.restarted == []
