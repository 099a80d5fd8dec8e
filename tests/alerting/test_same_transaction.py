"""Outbox rows are written in the transaction that stores the check event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from tests.conftest import Tenant

from leitstand.alerting.models import Alert, ProcessedEvent
from leitstand.monitoring import hooks
from leitstand.monitoring.checks.base import Result, State
from leitstand.monitoring.engine import Outcome
from leitstand.monitoring.models import CheckEvent, CheckResult
from leitstand.monitoring.states import CheckState, Event, EventKind, Status
from leitstand.monitoring.store import DatabaseStore

pytestmark = pytest.mark.django_db


def critical(tenant: Tenant) -> Outcome:
    state = CheckState(Status.CRITICAL, Status.CRITICAL, 3, False, (Status.CRITICAL,))
    return Outcome(
        tenant.check.pk,
        datetime(2026, 11, 22, 3, tzinfo=UTC),
        Result(State.CRITICAL, "connection refused"),
        state,
        (Event(EventKind.STATE, Status.OK, Status.CRITICAL, False),),
        "P1",
        False,
    )


def test_the_engine_store_processes_events_as_it_writes_them(customer_a: Tenant) -> None:
    DatabaseStore().write([critical(customer_a)])
    event = CheckEvent.objects.get()
    assert ProcessedEvent.objects.get(event=event).outcome  # claimed in the same transaction
    assert Alert.objects.filter(asset=customer_a.asset).exists()


def test_a_failing_hook_does_not_stop_monitoring_writes(
    customer_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(event: Any) -> None:
        raise RuntimeError("bug in a consumer")

    monkeypatch.setattr(hooks, "HOOKS", [broken])
    DatabaseStore().write([critical(customer_a)])
    assert CheckResult.objects.count() == 1
    assert CheckEvent.objects.count() == 1  # stored; the consumer catches up later
    assert not ProcessedEvent.objects.exists()
