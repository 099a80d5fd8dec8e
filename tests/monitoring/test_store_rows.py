"""The store's hand-prepared result rows are exactly the rows Django's field-by-field
preparation gives, on SQLite and PostgreSQL alike; the lock query finds the live checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from tests.conftest import Tenant

from leitstand.core.bulk import insert_rows
from leitstand.monitoring.checks.base import Result, State
from leitstand.monitoring.engine import Outcome
from leitstand.monitoring.models import Check, CheckResult
from leitstand.monitoring.states import CheckState, Status
from leitstand.monitoring.store import _RESULT_FIELDS, DatabaseStore, _insert_results, _lock_checks

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 22, 9, 30, 15, 123456, tzinfo=UTC)
BERLIN = datetime(2026, 3, 29, 3, 0, 0, 1, tzinfo=ZoneInfo("Europe/Berlin"))  # DST day
OK = CheckState(Status.OK, Status.OK, 0, False, (Status.OK,))
SOFT = CheckState(Status.CRITICAL, Status.OK, 1, False, (Status.OK, Status.CRITICAL))

CASES: list[tuple[datetime, Result, CheckState, bool]] = [
    (AT, Result(State.OK, "connected in 0 ms"), OK, False),
    (AT, Result(State.OK, "HTTP 200 in 3 ms", {"latency_s": 0.0031}), OK, False),
    (AT, Result(State.OK, "whole seconds", {"latency_s": 2}), OK, True),
    (AT, Result(State.WARNING, "loss", {"latency_s": 0.5, "loss_pct": 20.0}), OK, False),
    (AT, Result(State.OK, "no latency", {"rtt_ms": 3.25, "stratum": 2}), OK, False),
    (BERLIN, Result(State.CRITICAL, "x" * 400, {}), SOFT, True),
    (AT + timedelta(days=200), Result(State.UNKNOWN, "Grüße, ½ ✓"), SOFT, False),
]


def django_rows(outcomes: list[Outcome]) -> list[tuple[Any, ...]]:
    """The rows as the store built them before: every value through its field."""
    return [
        (
            o.check_id,
            o.at,
            o.state.state.value,
            o.result.metrics.get("latency_s"),
            o.result.summary[:300],
            {k: v for k, v in o.result.metrics.items() if k != "latency_s"},
            o.in_maintenance,
        )
        for o in outcomes
    ]


def stored(check: Check) -> list[tuple[Any, ...]]:
    """The raw column values in the database, in insertion order."""
    columns = ", ".join(
        connection.ops.quote_name(CheckResult._meta.get_field(name).column)  # type: ignore[union-attr]
        for name in _RESULT_FIELDS[1:]
    )
    table = connection.ops.quote_name(CheckResult._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {table} WHERE service_check_id = %s ORDER BY id",
            [check.pk],
        )
        return [tuple(row) for row in cursor.fetchall()]


def outcomes_for(check: Check) -> list[Outcome]:
    return [
        Outcome(check.pk, at, result, state, (), "P1", maintenance)
        for at, result, state, maintenance in CASES
    ]


def test_rows_equal_what_django_prepares(customer_a: Tenant, customer_b: Tenant) -> None:
    ours, reference = customer_a.check, customer_b.check
    with transaction.atomic():
        _insert_results(outcomes_for(ours))
        insert_rows(CheckResult, _RESULT_FIELDS, django_rows(outcomes_for(reference)))
    assert stored(ours) == stored(reference)
    assert len(stored(ours)) == len(CASES)


def test_rows_read_back_through_the_orm(customer_a: Tenant) -> None:
    DatabaseStore().write(outcomes_for(customer_a.check))
    rows = list(
        CheckResult.objects.filter(service_check=customer_a.check)
        .order_by("id")
        .values_list("at", "state", "latency_s", "summary", "metrics", "in_maintenance")
    )
    assert rows[0] == (AT, "ok", None, "connected in 0 ms", {}, False)
    assert rows[1] == (AT, "ok", 0.0031, "HTTP 200 in 3 ms", {}, False)
    assert rows[2][2] == 2.0
    assert isinstance(rows[2][2], float)
    assert rows[3][2:5] == (0.5, "loss", {"loss_pct": 20.0})
    assert rows[4][2:5] == (None, "no latency", {"rtt_ms": 3.25, "stratum": 2})
    assert rows[5][0] == BERLIN.astimezone(UTC)
    assert rows[5][1:4] == ("critical", None, "x" * 300)
    assert rows[5][5] is True
    assert rows[6][3] == "Grüße, ½ ✓"


def test_the_lock_query_finds_exactly_the_live_checks(
    customer_a: Tenant, customer_b: Tenant
) -> None:
    gone = Check.objects.create(asset=customer_a.asset, name="gone", kind="tcp")
    gone_id = gone.pk
    gone.delete()
    live = {customer_a.check.pk, customer_b.check.pk}
    with transaction.atomic():
        assert _lock_checks(sorted([*live, gone_id])) == live
        assert _lock_checks([]) == set()
        # more ids than SQLite takes in one statement's worth of chunks
        many = sorted({*live, *range(10**6, 10**6 + 25_000)})
        assert _lock_checks(many) == live


def test_an_empty_batch_writes_nothing(customer_a: Tenant) -> None:
    DatabaseStore().write([])
    assert not CheckResult.objects.exists()


def test_outcomes_of_deleted_checks_are_dropped_the_rest_kept(customer_a: Tenant) -> None:
    gone = Check.objects.create(asset=customer_a.asset, name="gone", kind="tcp")
    batch = [
        Outcome(gone.pk, AT, Result(State.OK, "gone"), OK, (), "P1", False),
        Outcome(customer_a.check.pk, AT, Result(State.OK, "kept"), OK, (), "P1", False),
    ]
    gone.delete()
    DatabaseStore().write(batch)
    assert list(CheckResult.objects.values_list("summary", flat=True)) == ["kept"]
