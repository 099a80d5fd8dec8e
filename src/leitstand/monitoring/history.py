"""History: 5-minute and 1-hour rollups, pruning, availability of a check.

Seed 001 §3.2: "Bereitstellung von Verlaufsdaten in grafischer Form". Raw
results are kept for ``LEITSTAND_RESULTS_KEEP_DAYS`` (default 31), 5-minute
rollups for ``LEITSTAND_ROLLUP_5M_KEEP_DAYS`` (default 400), hourly rollups
for ``LEITSTAND_ROLLUP_1H_KEEP_DAYS`` (default 1,830, five years).

Rollups are recomputed from their source for every bucket in a recent
window, so the job is idempotent: run it twice, or crash halfway, and the
next run puts everything right.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Q

from leitstand.maintenance.models import PlannedWork
from leitstand.monitoring.models import Check, CheckEvent, CheckResult, CheckRollup, CheckStatus
from leitstand.reports.availability import Availability, availability

FIVE_MINUTES = CheckRollup.FIVE_MINUTES
ONE_HOUR = CheckRollup.ONE_HOUR
RECOMPUTE = {FIVE_MINUTES: timedelta(minutes=20), ONE_HOUR: timedelta(hours=3)}


def keep_days(name: str, default: int) -> timedelta:
    return timedelta(days=int(os.environ.get(name, default)))


def bucket_start(at: datetime, resolution: int) -> datetime:
    """The start of the bucket containing ``at`` (UTC)."""
    seconds = int(at.timestamp())
    return datetime.fromtimestamp(seconds - seconds % resolution, UTC)


def rollup_5m(start: datetime, end: datetime) -> int:
    """Recompute 5-minute rollups for buckets in [start, end) from raw results."""
    acc: dict[tuple[int, datetime], list[tuple[str, float | None, bool]]] = defaultdict(list)
    rows = CheckResult.objects.filter(at__gte=start, at__lt=end).values_list(
        "service_check_id", "at", "state", "latency_s", "in_maintenance"
    )
    for check_id, at, state, latency, maint in rows.iterator(chunk_size=10_000):
        acc[(check_id, bucket_start(at, FIVE_MINUTES))].append((state, latency, maint))
    rollups = []
    for (check_id, bucket), samples in acc.items():
        latencies = [lat for _, lat, _ in samples if lat is not None]
        rollups.append(
            CheckRollup(
                service_check_id=check_id,
                resolution=FIVE_MINUTES,
                bucket=bucket,
                samples=len(samples),
                ok_samples=sum(1 for s, _, _ in samples if s == "ok"),
                maintenance_samples=sum(1 for _, _, m in samples if m),
                latency_min=min(latencies) if latencies else None,
                latency_avg=sum(latencies) / len(latencies) if latencies else None,
                latency_max=max(latencies) if latencies else None,
            )
        )
    return _upsert(rollups)


def rollup_1h(start: datetime, end: datetime) -> int:
    """Recompute hourly rollups for buckets in [start, end) from the 5-minute rollups."""
    acc: dict[tuple[int, datetime], list[CheckRollup]] = defaultdict(list)
    for row in CheckRollup.objects.filter(
        resolution=FIVE_MINUTES, bucket__gte=start, bucket__lt=end
    ).iterator(chunk_size=10_000):
        acc[(row.service_check_id, bucket_start(row.bucket, ONE_HOUR))].append(row)
    rollups = []
    for (check_id, bucket), parts in acc.items():
        mins = [p.latency_min for p in parts if p.latency_min is not None]
        maxs = [p.latency_max for p in parts if p.latency_max is not None]
        weighted = [(p.latency_avg, p.samples) for p in parts if p.latency_avg is not None]
        weight = sum(n for _, n in weighted)
        rollups.append(
            CheckRollup(
                service_check_id=check_id,
                resolution=ONE_HOUR,
                bucket=bucket,
                samples=sum(p.samples for p in parts),
                ok_samples=sum(p.ok_samples for p in parts),
                maintenance_samples=sum(p.maintenance_samples for p in parts),
                latency_min=min(mins, default=None),
                latency_avg=sum(a * n for a, n in weighted) / weight if weight else None,
                latency_max=max(maxs, default=None),
            )
        )
    return _upsert(rollups)


def _upsert(rollups: list[CheckRollup]) -> int:
    with transaction.atomic():
        alive = set(
            Check.objects.filter(pk__in={r.service_check_id for r in rollups}).values_list(
                "pk", flat=True
            )
        )
        CheckRollup.objects.bulk_create(
            [r for r in rollups if r.service_check_id in alive],
            update_conflicts=True,
            unique_fields=["service_check", "resolution", "bucket"],
            update_fields=[
                "samples",
                "ok_samples",
                "maintenance_samples",
                "latency_min",
                "latency_avg",
                "latency_max",
            ],
            batch_size=2000,
        )
    return len(rollups)


def run_rollups(now: datetime) -> tuple[int, int]:
    """Recompute the recent completed buckets of both resolutions."""
    end5 = bucket_start(now, FIVE_MINUTES)
    end1 = bucket_start(now, ONE_HOUR)
    five = rollup_5m(end5 - RECOMPUTE[FIVE_MINUTES], end5)
    hour = rollup_1h(end1 - RECOMPUTE[ONE_HOUR], end1)
    return five, hour


def prune(now: datetime, *, chunk: int = 50_000) -> int:
    """Delete raw results and rollups past their keep time, in chunks."""
    deleted = 0
    targets = [
        (CheckResult.objects.all(), "at", keep_days("LEITSTAND_RESULTS_KEEP_DAYS", 31)),
        (
            CheckRollup.objects.filter(resolution=FIVE_MINUTES),
            "bucket",
            keep_days("LEITSTAND_ROLLUP_5M_KEEP_DAYS", 400),
        ),
        (
            CheckRollup.objects.filter(resolution=ONE_HOUR),
            "bucket",
            keep_days("LEITSTAND_ROLLUP_1H_KEEP_DAYS", 1830),
        ),
    ]
    for queryset, field, keep in targets:
        old = queryset.filter(**{f"{field}__lt": now - keep})
        while True:
            ids = list(old.values_list("pk", flat=True)[:chunk])
            if not ids:
                break
            deleted += queryset.model._default_manager.filter(pk__in=ids).delete()[0]
    return deleted


def check_availability(check: Check, start: datetime, end: datetime) -> Availability:
    """Availability of one check over [start, end), announced maintenance excluded."""
    before = (
        CheckEvent.objects.filter(service_check=check, kind="state", at__lte=start)
        .order_by("-at", "-id")
        .values_list("new_state", flat=True)
        .first()
    )
    if before is None:
        # No change before the period: the first change's old state held, or the
        # current state if the check never changed.
        first = (
            CheckEvent.objects.filter(service_check=check, kind="state", at__gt=start)
            .order_by("at", "id")
            .values_list("old_state", flat=True)
            .first()
        )
        current = (
            CheckStatus.objects.filter(pk=check.pk).values_list("hard_state", flat=True).first()
        )
        before = first or current or "pending"
    changes = CheckEvent.objects.filter(
        service_check=check, kind="state", at__gt=start, at__lt=end
    ).values_list("at", "new_state")
    windows = PlannedWork.objects.filter(
        Q(starts_at__lt=end) & Q(ends_at__gt=start), assets=check.asset_id
    ).values_list("starts_at", "ends_at")
    return availability(start, end, before, list(changes), list(windows))
