"""Periodic steps: run when due, again at once while they find work, failures isolated."""

from __future__ import annotations

import pytest

from leitstand.core import periodic


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, periodic.Periodic]:
    fresh: dict[str, periodic.Periodic] = {}
    monkeypatch.setattr(periodic, "REGISTRY", fresh)
    return fresh


@pytest.mark.django_db
def test_steps_run_when_due_and_repeat_while_busy(registry: dict[str, periodic.Periodic]) -> None:
    work = [3, 0]
    calls: list[str] = []

    @periodic.periodic(every=10)
    def busy() -> int:
        calls.append("busy")
        return work.pop(0) if work else 0

    @periodic.periodic(every=10)
    def broken() -> int:
        calls.append("broken")
        raise RuntimeError("boom")

    periodic.run_due(100.0)
    assert calls == ["busy", "broken"]
    assert (
        registry[f"{__name__}.test_steps_run_when_due_and_repeat_while_busy.<locals>.busy"].due
        == 100.0
    )
    periodic.run_due(100.0)  # busy found work: due again at once; broken waits
    assert calls == ["busy", "broken", "busy"]
    periodic.run_due(105.0)  # nothing due
    assert calls == ["busy", "broken", "busy"]
    periodic.run_due(110.0)
    assert calls == ["busy", "broken", "busy", "busy", "broken"]


def test_the_helpdesk_intake_is_registered() -> None:
    assert "leitstand.helpdesk.jobs.monitoring_intake" in periodic.REGISTRY
