"""The alerting loop end to end: an event in, an e-mail out, through the command."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from tests.alerting.conftest import T0, SmtpSink, alarm_contact, event
from tests.conftest import Tenant

from leitstand.alerting import worker
from leitstand.alerting.models import Notification

pytestmark = pytest.mark.django_db

EMAIL = ("email", {"to": "alice@c90001.example"})


@pytest.fixture
def clock() -> Any:
    with time_machine.travel(T0, tick=True) as traveller:
        yield traveller


def test_command_once_delivers_what_is_pending(
    customer_a: Tenant, smtp_sink: SmtpSink, clock: Any
) -> None:
    alarm_contact(customer_a, EMAIL)
    event(customer_a.check, "critical")
    call_command("alerting_worker", "--once", "--id", "test-worker")
    [mail] = smtp_sink.received
    assert mail.recipients == ["alice@c90001.example"]
    assert Notification.objects.get().status == Notification.Status.SENT


def test_run_until_idle_stops_when_nothing_is_left(customer_a: Tenant, clock: Any) -> None:
    assert worker.run_until_idle("w") == 1


def test_run_returns_when_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    stop = threading.Event()
    rounds = []

    def step(worker_id: str) -> bool:
        rounds.append(worker_id)
        if len(rounds) == 3:
            stop.set()
        return True

    monkeypatch.setattr(worker, "step", step)
    worker.run("w", stop, idle_sleep=0)
    assert rounds == ["w", "w", "w"]


def test_worker_id_names_host_and_process() -> None:
    host, _, pid = worker.default_worker_id().rpartition(":")
    assert host
    assert pid.isdigit()


def test_the_steps_are_registered_with_the_worker() -> None:
    from leitstand.core import periodic

    assert {
        "leitstand.alerting.jobs.alerting_events",
        "leitstand.alerting.jobs.alerting_escalation",
        "leitstand.alerting.jobs.alerting_delivery",
    } <= set(periodic.REGISTRY)


def test_the_steps_report_what_they_did(
    customer_a: Tenant, smtp_sink: SmtpSink, clock: Any
) -> None:
    from leitstand.alerting import jobs

    alarm_contact(customer_a, EMAIL)
    event(customer_a.check, "critical")
    assert jobs.alerting_events() == 1
    assert jobs.alerting_escalation() == 0
    assert jobs.alerting_delivery() == 1
    assert jobs.alerting_delivery() == 0
    assert len(smtp_sink.received) == 1


def test_run_outlives_a_failing_round(monkeypatch: pytest.MonkeyPatch) -> None:
    """A locked or vanished database must not end the loop that delivers alarms."""
    stop = threading.Event()
    rounds: list[int] = []

    def step(worker_id: str) -> bool:
        rounds.append(1)
        if len(rounds) == 1:
            raise RuntimeError("database is locked")
        stop.set()
        return True

    monkeypatch.setattr(worker, "step", step)
    monkeypatch.setattr(worker, "ERROR_SLEEP", 0)
    worker.run("w", stop, idle_sleep=0)
    assert len(rounds) == 2
