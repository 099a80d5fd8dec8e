"""Rollups, pruning and availability over stored results and events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.conftest import Tenant

from leitstand.maintenance.models import PlannedWork
from leitstand.monitoring.history import (
    check_availability,
    prune,
    rollup_1h,
    rollup_5m,
    run_rollups,
)
from leitstand.monitoring.models import CheckEvent, CheckResult, CheckRollup, CheckStatus

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def result(
    tenant: Tenant, minutes: float, state: str = "ok", latency: float | None = 0.1, **kw: object
) -> None:
    CheckResult.objects.create(
        service_check=tenant.check,
        at=T0 + timedelta(minutes=minutes),
        state=state,
        latency_s=latency,
        **kw,
    )


def test_five_minute_rollups(customer_a: Tenant) -> None:
    result(customer_a, 0, latency=0.1)
    result(customer_a, 1, latency=0.3)
    result(customer_a, 2, state="critical", latency=None)
    result(customer_a, 3, in_maintenance=True)
    result(customer_a, 5, latency=0.5)  # next bucket
    rollup_5m(T0, T0 + timedelta(minutes=10))
    first, second = CheckRollup.objects.filter(resolution=300).order_by("bucket")
    assert (first.bucket, first.samples, first.ok_samples, first.maintenance_samples) == (
        T0,
        4,
        3,
        1,
    )
    assert (first.latency_min, first.latency_max) == (0.1, 0.3)
    assert first.latency_avg == pytest.approx(0.5 / 3)
    assert (second.bucket, second.samples, second.latency_avg) == (
        T0 + timedelta(minutes=5),
        1,
        0.5,
    )


def test_rollups_are_idempotent(customer_a: Tenant) -> None:
    for m in range(12):
        result(customer_a, m * 5)
    rollup_5m(T0, T0 + timedelta(hours=1))
    rollup_5m(T0, T0 + timedelta(hours=1))
    rollup_1h(T0, T0 + timedelta(hours=1))
    rollup_1h(T0, T0 + timedelta(hours=1))
    assert CheckRollup.objects.filter(resolution=300).count() == 12
    hourly = CheckRollup.objects.get(resolution=3600)
    assert (hourly.samples, hourly.ok_samples) == (12, 12)
    assert hourly.latency_avg == pytest.approx(0.1)


def test_run_rollups_covers_only_completed_buckets(customer_a: Tenant) -> None:
    result(customer_a, 1)
    result(customer_a, 7)  # the bucket 10:05-10:10 is not complete at 10:08
    run_rollups(T0 + timedelta(minutes=8))
    assert list(CheckRollup.objects.values_list("resolution", "bucket")) == [(300, T0)]


def test_prune_keeps_what_is_young_enough(
    customer_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEITSTAND_RESULTS_KEEP_DAYS", "2")
    result(customer_a, 0)
    result(customer_a, 60 * 24 * 3)
    CheckRollup.objects.create(
        service_check=customer_a.check, resolution=300, bucket=T0, samples=1, ok_samples=1
    )
    deleted = prune(T0 + timedelta(days=3, hours=1), chunk=1)
    assert deleted == 1
    assert CheckResult.objects.count() == 1
    assert CheckRollup.objects.count() == 1  # rollups are kept far longer


def event(tenant: Tenant, minutes: float, old: str, new: str) -> None:
    CheckEvent.objects.create(
        service_check=tenant.check,
        at=T0 + timedelta(minutes=minutes),
        kind="state",
        old_state=old,
        new_state=new,
        priority="P1",
    )


def test_availability_from_events_without_maintenance(customer_a: Tenant) -> None:
    event(customer_a, -60, "pending", "ok")
    event(customer_a, 60, "ok", "critical")
    event(customer_a, 90, "critical", "ok")
    # a planned work on the asset from 10:30 to 11:30 covers half of the outage (11:00-11:30)
    work = PlannedWork.objects.create(
        title="Kernel update",
        starts_at=T0 + timedelta(minutes=30),
        ends_at=T0 + timedelta(minutes=90),
    )
    work.assets.add(customer_a.asset)
    result = check_availability(customer_a.check, T0, T0 + timedelta(hours=4))
    assert result.down == timedelta(0)
    assert result.excluded == timedelta(hours=1)
    assert result.ratio == 1.0
    work.delete()
    result = check_availability(customer_a.check, T0, T0 + timedelta(hours=4))
    assert result.down == timedelta(minutes=30)
    assert result.ratio == pytest.approx(3.5 / 4)


def test_availability_of_a_check_that_never_changed(customer_a: Tenant) -> None:
    CheckStatus.objects.create(service_check=customer_a.check, state="ok", hard_state="ok")
    result = check_availability(customer_a.check, T0, T0 + timedelta(hours=1))
    assert result.ratio == 1.0


def test_availability_starting_inside_an_outage(customer_a: Tenant) -> None:
    event(customer_a, 30, "critical", "ok")  # down since before the period
    result = check_availability(customer_a.check, T0, T0 + timedelta(hours=1))
    assert result.down == timedelta(minutes=30)
