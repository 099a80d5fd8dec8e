"""The engine against the real database and real sockets: results, events and states land
in the tables, added checks are picked up without a restart."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest
from django.db import connection
from tests.conftest import Tenant

from leitstand.monitoring.engine import Engine
from leitstand.monitoring.models import Check, CheckEvent, CheckResult, CheckStatus
from leitstand.monitoring.store import DatabaseStore

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens here now
    return int(port)


@pytest.fixture
def listening_port() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(50)
    yield sock.getsockname()[1]
    sock.close()


def tcp(tenant: Tenant, name: str, port: int, **kw: object) -> Check:
    return Check.objects.create(
        asset=tenant.asset,
        name=name,
        kind="tcp",
        params={"host": "127.0.0.1", "port": port},
        interval_seconds=1,
        retry_interval_seconds=1,
        timeout_seconds=1,
        max_attempts=1,
        **kw,
    )


def in_thread(func, *args):  # type: ignore[no-untyped-def]
    """Run ORM code in a thread, then close that thread's connection (PostgreSQL
    will not drop the test database while a connection is left open)."""

    def call():  # type: ignore[no-untyped-def]
        try:
            return func(*args)
        finally:
            connection.close()

    return asyncio.to_thread(call)


async def run_engine(seconds: float, during=None) -> Engine:  # type: ignore[no-untyped-def]
    engine = Engine(DatabaseStore(), reload_interval=0.3, flush_interval=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    if during is not None:
        await during()
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait_for(task, 20)
    return engine


def test_results_events_and_states_are_stored(
    customer_a: Tenant, listening_port: int, closed_port: int
) -> None:
    customer_a.check.enabled = False  # the fixture's HTTP check points nowhere useful
    customer_a.check.save()
    up = tcp(customer_a, "up", listening_port)
    down = tcp(customer_a, "down", closed_port, priority="P2")
    engine = asyncio.run(run_engine(2.5))
    assert engine.stats.write_failures == 0
    assert CheckResult.objects.filter(service_check=up, state="ok").count() >= 2
    assert CheckResult.objects.filter(service_check=down, state="critical").count() >= 2
    event = CheckEvent.objects.get(service_check=down)
    assert (event.kind, event.old_state, event.new_state, event.priority) == (
        "state",
        "pending",
        "critical",
        "P2",
    )
    assert "refused" in event.reason
    assert not CheckEvent.objects.filter(service_check=up).exists()
    status = CheckStatus.objects.get(service_check=down)
    assert (status.state, status.hard_state) == ("critical", "critical")
    assert status.last_change_at == event.at
    assert CheckStatus.objects.get(service_check=up).hard_state == "ok"


def test_state_survives_an_engine_restart(customer_a: Tenant, closed_port: int) -> None:
    customer_a.check.enabled = False
    customer_a.check.save()
    down = tcp(customer_a, "down", closed_port)
    asyncio.run(run_engine(1.5))
    asyncio.run(run_engine(1.5))
    # the second engine continued from the stored hard state: no second event
    assert CheckEvent.objects.filter(service_check=down).count() == 1


def test_a_check_added_while_running_is_picked_up(customer_a: Tenant, listening_port: int) -> None:
    customer_a.check.enabled = False
    customer_a.check.save()

    async def add() -> None:
        await asyncio.sleep(0.5)
        await in_thread(tcp, customer_a, "late", listening_port)

    asyncio.run(run_engine(2.0, add))
    assert CheckResult.objects.filter(service_check__name="late").exists()


def test_results_of_a_deleted_check_are_dropped_not_fatal(
    customer_a: Tenant, listening_port: int
) -> None:
    customer_a.check.enabled = False
    customer_a.check.save()
    doomed = tcp(customer_a, "doomed", listening_port)

    async def delete() -> None:
        await asyncio.sleep(0.2)
        await in_thread(doomed.delete)

    engine = asyncio.run(run_engine(1.5, delete))
    assert engine.stats.write_failures == 0
    assert not CheckResult.objects.filter(service_check_id=doomed.pk).exists()


def test_status_rows_are_written_on_change_and_refreshed_once_a_minute(customer_a: Tenant) -> None:
    from datetime import UTC, datetime, timedelta

    from leitstand.monitoring.checks.base import Result, State
    from leitstand.monitoring.engine import Outcome
    from leitstand.monitoring.states import CheckState, Status

    store = DatabaseStore()
    t0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    ok = CheckState(Status.OK, Status.OK, 0, False, (Status.OK,))

    def outcome(at: datetime, state: CheckState, summary: str) -> Outcome:
        return Outcome(customer_a.check.pk, at, Result(State.OK, summary), state, (), "P1", False)

    store.write([outcome(t0, ok, "first")])
    store.write([outcome(t0 + timedelta(seconds=30), ok, "unchanged")])
    status = CheckStatus.objects.get(pk=customer_a.check.pk)
    assert (status.summary, status.last_run_at) == ("first", t0)  # not rewritten
    soft = CheckState(Status.CRITICAL, Status.OK, 1, False, (Status.OK, Status.CRITICAL))
    store.write([outcome(t0 + timedelta(seconds=40), soft, "soft failure")])
    assert CheckStatus.objects.get(pk=customer_a.check.pk).attempt == 1  # a change: written
    store.write([outcome(t0 + timedelta(seconds=101), soft, "still failing")])
    assert CheckStatus.objects.get(pk=customer_a.check.pk).summary == "still failing"  # a minute on
    assert CheckResult.objects.filter(service_check=customer_a.check).count() == 4  # every result


def test_a_check_deleted_while_its_results_are_written_is_dropped(customer_a: Tenant) -> None:
    """The delete commits between the writer's read of the live checks and its
    COMMIT: without a lock PostgreSQL's deferred foreign key fails the batch."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers anyway; the race needs PostgreSQL")
    import threading
    from datetime import UTC, datetime

    from django.db import transaction

    from leitstand.monitoring.checks.base import Result, State
    from leitstand.monitoring.engine import Outcome
    from leitstand.monitoring.states import CheckState, Status

    ok = CheckState(Status.OK, Status.OK, 0, False, (Status.OK,))
    doomed = customer_a.check.pk
    at = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    deleting, errors = threading.Event(), []

    def delete() -> None:
        try:
            with transaction.atomic():
                Check.objects.filter(pk=doomed).delete()
                deleting.set()
                threading.Event().wait(0.5)  # the writer runs into our lock meanwhile
        finally:
            connection.close()

    def write() -> None:
        try:
            deleting.wait(5)
            DatabaseStore().write(
                [Outcome(doomed, at, Result(State.OK, "ok"), ok, (), "P1", False)]
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=delete), threading.Thread(target=write)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert not CheckResult.objects.filter(service_check_id=doomed).exists()
