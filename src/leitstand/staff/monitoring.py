"""Back-office monitoring: the status board, check history and host metric series.

Seed 001 §3.2: "Bereitstellung von Verlaufsdaten in grafischer Form". The
pure part (ranges, the choice of data source, shaping rows into the columnar
arrays uPlot draws, summaries for the charts' text alternative) takes plain
values and is tested with tables; the query part below it loads rows in a
bounded number of queries, whatever the number of checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import (
    Avg,
    Case,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncHour
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from leitstand.contracts.models import Customer
from leitstand.maintenance.models import PlannedWork
from leitstand.monitoring.models import Check, CheckResult, CheckRollup
from leitstand.monitoring.states import Status
from leitstand.operations.models import Agent, HostMetric

# --- ranges and sources (pure) ---------------------------------------------

RANGES: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "365d": timedelta(days=365),
}
DEFAULT_RANGE = "24h"
RANGE_LABELS = {
    "24h": _("24 hours"),
    "7d": _("7 days"),
    "30d": _("30 days"),
    "365d": _("365 days"),
}

STATE_LABELS = {
    Status.PENDING: _("pending"),
    Status.OK: _("OK"),
    Status.WARNING: _("warning"),
    Status.CRITICAL: _("critical"),
    Status.UNKNOWN: _("unknown"),
    Status.UNREACHABLE: _("unreachable"),
}
PROBLEM_STATES = tuple(s.value for s in Status if s.is_problem)


def parse_range(value: str | None) -> str:
    """The range key from a GET parameter; anything unknown means the default."""
    return value if value in RANGES else DEFAULT_RANGE


class Source(StrEnum):
    """Where a check's graph comes from."""

    RAW = "raw"
    FIVE_MINUTES = "5m"
    ONE_HOUR = "1h"

    @property
    def resolution(self) -> int:
        """Bucket width in seconds; 0 for raw results."""
        return {"raw": 0, "5m": CheckRollup.FIVE_MINUTES, "1h": CheckRollup.ONE_HOUR}[self.value]


def choose_source(span: timedelta) -> Source:
    """Raw results for a day, 5-minute rollups up to a week, hourly rollups beyond.

    A chart is about a thousand pixels wide: a week of one-minute results
    (10,080 points) only costs transfer time, and raw results are pruned after
    31 days anyway; hourly rollups give 8,760 points for a year.
    """
    if span <= timedelta(hours=24):
        return Source.RAW
    if span <= timedelta(days=7):
        return Source.FIVE_MINUTES
    return Source.ONE_HOUR


@dataclass(frozen=True)
class Point:
    """One point of a check's graph: a result, or a rollup bucket."""

    at: datetime
    latency_s: float | None
    latency_max_s: float | None
    samples: int
    ok_samples: int


def points_from_results(rows: Iterable[tuple[datetime, str, float | None]]) -> list[Point]:
    """Raw results ``(at, state, latency_s)`` as points; pending results are no sample."""
    return [
        Point(at, latency, latency, 1, 1 if state == Status.OK else 0)
        for at, state, latency in rows
        if state != Status.PENDING
    ]


def points_from_rollups(
    rows: Iterable[tuple[datetime, int, int, float | None, float | None]],
) -> list[Point]:
    """Rollups ``(bucket, samples, ok_samples, latency_avg, latency_max)`` as points."""
    return [
        Point(bucket, avg, peak, samples, ok)
        for bucket, samples, ok, avg, peak in rows
        if samples > 0
    ]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def shape_check_series(
    source: Source, start: datetime, end: datetime, points: Sequence[Point], gap: timedelta
) -> dict[str, Any]:
    """Columnar arrays for uPlot: time (Unix seconds), latency in ms, OK share in %.

    A null row is inserted wherever two points lie more than ``gap`` apart, so
    the chart shows a hole (engine down, check disabled) instead of a straight
    line across it.
    """
    t: list[int] = []
    latency: list[float | None] = []
    latency_max: list[float | None] = []
    ok_percent: list[float | None] = []
    previous: datetime | None = None
    for point in sorted(points, key=lambda p: p.at):
        if previous is not None and point.at - previous > gap:
            t.append(int((previous + gap).timestamp()))
            latency.append(None)
            latency_max.append(None)
            ok_percent.append(None)
        t.append(int(point.at.timestamp()))
        latency.append(_ms(point.latency_s))
        latency_max.append(_ms(point.latency_max_s))
        ok_percent.append(round(100 * point.ok_samples / point.samples, 2))
        previous = point.at
    return {
        "source": source.value,
        "resolution": source.resolution,
        "start": int(start.timestamp()),
        "end": int(end.timestamp()),
        "t": t,
        "latency_ms": latency,
        "latency_max_ms": latency_max,
        "ok_percent": ok_percent,
    }


@dataclass(frozen=True)
class SeriesSummary:
    """The figures behind a check's chart, for its text alternative."""

    points: int
    samples: int
    ok_percent: float | None
    latency_min_ms: float | None
    latency_avg_ms: float | None
    latency_max_ms: float | None


def summarise(points: Sequence[Point]) -> SeriesSummary:
    """Totals over the points; the average latency is weighted by samples per point."""
    samples = sum(p.samples for p in points)
    ok = sum(p.ok_samples for p in points)
    timed = [p for p in points if p.latency_s is not None]
    weight = sum(p.samples for p in timed)
    peaks = [p.latency_max_s for p in points if p.latency_max_s is not None]
    lows = [p.latency_s for p in timed if p.latency_s is not None]
    average = sum(p.latency_s * p.samples for p in timed if p.latency_s is not None)
    return SeriesSummary(
        points=len(points),
        samples=samples,
        ok_percent=round(100 * ok / samples, 2) if samples else None,
        # For rollups the lowest average is the best the chart shows; rollups keep
        # their minimum, but the chart does not draw it.
        latency_min_ms=_ms(min(lows, default=None)),
        latency_avg_ms=_ms(average / weight) if weight else None,
        latency_max_ms=_ms(max(peaks, default=None)),
    )


# --- host metrics (pure) ----------------------------------------------------

HOST_METRICS = ("cpu_percent", "mem_percent", "load1")
HOURLY = 3600


def metric_bucket(span: timedelta) -> int:
    """Raw samples for a day, hourly averages beyond (seconds; 0 = raw)."""
    return 0 if span <= timedelta(hours=24) else HOURLY


def is_graphed_metric(name: str) -> bool:
    """CPU, memory, load and file-system fill levels; health flags are not graphs."""
    return name in HOST_METRICS or (name.startswith("fs:") and name.endswith(":percent"))


def _metric_order(name: str) -> tuple[int, str]:
    return (HOST_METRICS.index(name), "") if name in HOST_METRICS else (len(HOST_METRICS), name)


def metric_label(name: str) -> str:
    """A readable label: "CPU", "Memory", "Load (1 min)", "File system /var"."""
    labels = {
        "cpu_percent": gettext("CPU"),
        "mem_percent": gettext("Memory"),
        "load1": gettext("Load (1 min)"),
    }
    if name in labels:
        return labels[name]
    mount = name.removeprefix("fs:").removesuffix(":percent")
    return gettext("File system %(mount)s") % {"mount": mount}


def shape_metric_series(
    rows: Iterable[tuple[str, datetime, float]], start: datetime, end: datetime, bucket: int
) -> dict[str, Any]:
    """Metric samples ``(name, at, value)`` as one shared time axis and one chart per unit.

    An agent sends all metrics of one report with the same time, so the
    series align; a metric missing from a report is null at that time.
    Percentages share a chart (0-100 %), load has its own scale.
    """
    values: dict[str, dict[int, float]] = {}
    for name, at, value in rows:
        if is_graphed_metric(name):
            values.setdefault(name, {})[int(at.timestamp())] = round(value, 2)
    t = sorted({stamp for series in values.values() for stamp in series})
    names = sorted(values, key=_metric_order)
    percent = [n for n in names if n.endswith("percent")]
    load = [n for n in names if n not in percent]
    charts = []
    if percent:
        charts.append(
            {"id": "percent", "title": gettext("Utilisation"), "unit": "%", "series": percent}
        )
    if load:
        charts.append({"id": "load", "title": gettext("Load"), "unit": "", "series": load})
    return {
        "bucket": bucket,
        "start": int(start.timestamp()),
        "end": int(end.timestamp()),
        "t": t,
        "series": {n: [values[n].get(stamp) for stamp in t] for n in names},
        "labels": {n: metric_label(n) for n in names},
        "charts": charts,
    }


# --- queries ------------------------------------------------------------------


class BoardFilter(forms.Form):
    """The status board's filters, all optional, all from the query string."""

    customer = forms.ChoiceField(label=_("Customer"), required=False)
    state = forms.ChoiceField(label=_("State"), required=False)
    priority = forms.ChoiceField(label=_("Priority"), required=False)

    def __init__(self, data: Any, customers: Iterable[tuple[str, str]]) -> None:
        super().__init__(data)
        all_ = [("", gettext("all"))]
        self._set_choices("customer", all_ + [(n, f"{n} {name}") for n, name in customers])
        self._set_choices(
            "state",
            all_
            + [("problems", gettext("all problems"))]
            + [(s.value, str(STATE_LABELS[s])) for s in Status],
        )
        self._set_choices("priority", all_ + [(k, str(v)) for k, v in Check.Priority.choices])

    def _set_choices(self, name: str, choices: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices


def board_filter(data: Any) -> BoardFilter:
    """The filter form, its customer list loaded in one query."""
    customers = Customer.objects.order_by("number").values_list("number", "name")
    return BoardFilter(data, customers)


def board_checks(now: datetime) -> QuerySet[Check]:
    """Checks with everything a board row shows, in one query.

    ``confirmed`` is the hard state, "pending" for a check the engine has not
    run yet (no status row); ``in_maintenance`` is announced work on the asset
    right now. Order: confirmed problems, then unconfirmed (soft) failures,
    then the rest; most recent change first within each.
    """
    maintenance = PlannedWork.objects.filter(
        assets=OuterRef("asset_id"), starts_at__lte=now, ends_at__gt=now
    )
    return (
        Check.objects.select_related("asset__customer")
        .annotate(
            confirmed=Coalesce("status__hard_state", Value(Status.PENDING.value)),
            current=Coalesce("status__state", Value(Status.PENDING.value)),
            # Flat copies of the status: a check without a status row has none,
            # and the template should not have to catch DoesNotExist.
            attempt=F("status__attempt"),
            flapping=Coalesce("status__flapping", Value(False)),
            summary=F("status__summary"),
            last_change_at=F("status__last_change_at"),
            in_maintenance=Exists(maintenance),
            rank=Case(
                When(status__hard_state__in=PROBLEM_STATES, then=Value(0)),
                When(status__state__in=PROBLEM_STATES, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
        )
        .order_by("rank", F("last_change_at").desc(nulls_last=True), "pk")
    )


BOARD_PAGE_SIZE = 50


def board_page(form: BoardFilter, page: str | None, now: datetime) -> Page[Check]:
    """The enabled checks that pass the valid filters; invalid filter values are ignored."""
    checks = board_checks(now).filter(enabled=True)
    form.is_valid()  # fills cleaned_data with the fields that are valid
    cleaned = getattr(form, "cleaned_data", {})
    if customer := cleaned.get("customer"):
        checks = checks.filter(asset__customer__number=customer)
    if state := cleaned.get("state"):
        checks = (
            # Q: the annotation is invisible to the type checker's field lookup.
            checks.filter(Q(confirmed__in=PROBLEM_STATES))
            if state == "problems"
            else checks.filter(Q(confirmed=state))
        )
    if priority := cleaned.get("priority"):
        checks = checks.filter(priority=priority)
    return Paginator(checks, BOARD_PAGE_SIZE).get_page(page)


def load_check_points(check: Check, source: Source, start: datetime, end: datetime) -> list[Point]:
    """The points of one check's graph over [start, end), from the chosen source."""
    if source is Source.RAW:
        results = CheckResult.objects.filter(
            service_check=check, at__gte=start, at__lt=end
        ).values_list("at", "state", "latency_s")
        return points_from_results(results)
    rollups = CheckRollup.objects.filter(
        service_check=check, resolution=source.resolution, bucket__gte=start, bucket__lt=end
    ).values_list("bucket", "samples", "ok_samples", "latency_avg", "latency_max")
    return points_from_rollups(rollups)


def series_gap(check: Check, source: Source) -> timedelta:
    """How far apart two points may be before the chart breaks the line.

    Raw: three missed intervals (a retry makes some closer, never further);
    rollups: one missing bucket.
    """
    if source is Source.RAW:
        return timedelta(seconds=3 * check.interval_seconds)
    return timedelta(seconds=2 * source.resolution)


def check_series(
    check: Check, range_key: str, now: datetime
) -> tuple[dict[str, Any], SeriesSummary]:
    """A check's chart data for a range ending now, and its summary."""
    span = RANGES[range_key]
    source = choose_source(span)
    start = now - span
    points = load_check_points(check, source, start, now)
    series = shape_check_series(source, start, now, points, series_gap(check, source))
    return series, summarise(points)


def _metric_rows(agent: Agent, start: datetime, end: datetime) -> QuerySet[HostMetric]:
    graphed = Q(name__in=HOST_METRICS) | Q(name__startswith="fs:", name__endswith=":percent")
    return HostMetric.objects.filter(graphed, agent=agent, at__gte=start, at__lt=end)


def host_series(agent: Agent, range_key: str, now: datetime) -> dict[str, Any]:
    """An agent's graphed metrics over a range ending now; hourly averages beyond a day."""
    span = RANGES[range_key]
    start = now - span
    bucket = metric_bucket(span)
    rows = _metric_rows(agent, start, now)
    if bucket:
        # Averaged in the database: a year of one-minute reports is half a
        # million rows per metric, too many to fetch.
        hourly = (
            rows.annotate(hour=TruncHour("at", tzinfo=UTC))
            .values("name", "hour")
            .annotate(mean=Avg("value"))
            .order_by()  # the model's ordering would put "at" into the GROUP BY
            .values_list("name", "hour", "mean")
        )
        return shape_metric_series(hourly, start, now, bucket)
    return shape_metric_series(rows.values_list("name", "at", "value"), start, now, bucket)


@dataclass(frozen=True)
class MetricSummary:
    """Minimum, average and maximum of one metric over a range (the charts' text alternative)."""

    name: str
    label: str
    unit: str
    minimum: float
    average: float
    maximum: float


def host_summary(agent: Agent, range_key: str, now: datetime) -> list[MetricSummary]:
    """Per graphed metric: min, average and max over the range, in one query."""
    rows = (
        _metric_rows(agent, now - RANGES[range_key], now)
        .values("name")
        .annotate(lo=Min("value"), mean=Avg("value"), hi=Max("value"))
        .order_by()
    )
    return sorted(
        (
            MetricSummary(
                r["name"],
                metric_label(r["name"]),
                "%" if r["name"].endswith("percent") else "",
                round(r["lo"], 2),
                round(r["mean"], 2),
                round(r["hi"], 2),
            )
            for r in rows
        ),
        key=lambda m: _metric_order(m.name),
    )
