"""Chart data for the monitoring pages: source choice and shaping, as tables (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import translation

from leitstand.staff.monitoring import (
    Point,
    Source,
    choose_source,
    is_graphed_metric,
    metric_bucket,
    metric_label,
    parse_range,
    points_from_results,
    points_from_rollups,
    shape_check_series,
    shape_metric_series,
    summarise,
)
from leitstand.staff.templatetags.staff_monitoring import hms, percent, state_label

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
E0 = 1772366400  # T0 as Unix seconds


def test_t0_constant() -> None:
    assert int(T0.timestamp()) == E0


@pytest.mark.parametrize(
    ("span", "source"),
    [
        (timedelta(hours=1), Source.RAW),
        (timedelta(hours=24), Source.RAW),
        (timedelta(hours=24, seconds=1), Source.FIVE_MINUTES),
        (timedelta(days=7), Source.FIVE_MINUTES),
        (timedelta(days=7, seconds=1), Source.ONE_HOUR),
        (timedelta(days=30), Source.ONE_HOUR),
        (timedelta(days=365), Source.ONE_HOUR),
    ],
)
def test_choose_source(span: timedelta, source: Source) -> None:
    assert choose_source(span) is source


@pytest.mark.parametrize(
    ("source", "resolution"), [(Source.RAW, 0), (Source.FIVE_MINUTES, 300), (Source.ONE_HOUR, 3600)]
)
def test_source_resolution(source: Source, resolution: int) -> None:
    assert source.resolution == resolution


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("24h", "24h"),
        ("7d", "7d"),
        ("30d", "30d"),
        ("365d", "365d"),
        (None, "24h"),
        ("", "24h"),
        ("1y", "24h"),
        ("7D", "24h"),
    ],
)
def test_parse_range(value: str | None, key: str) -> None:
    assert parse_range(value) == key


def test_points_from_results_count_ok_and_skip_pending() -> None:
    rows = [
        (T0, "ok", 0.25),
        (T0 + timedelta(minutes=1), "critical", None),
        (T0 + timedelta(minutes=2), "pending", None),
        (T0 + timedelta(minutes=3), "warning", 0.5),
    ]
    assert points_from_results(rows) == [
        Point(T0, 0.25, 0.25, 1, 1),
        Point(T0 + timedelta(minutes=1), None, None, 1, 0),
        Point(T0 + timedelta(minutes=3), 0.5, 0.5, 1, 0),
    ]


def test_points_from_rollups_skip_empty_buckets() -> None:
    rows = [(T0, 5, 4, 0.1, 0.3), (T0 + timedelta(minutes=5), 0, 0, None, None)]
    assert points_from_rollups(rows) == [Point(T0, 0.1, 0.3, 5, 4)]


def test_shape_check_series_sorts_converts_and_breaks_gaps() -> None:
    points = [
        Point(T0 + timedelta(minutes=10), 0.3, 0.3, 1, 1),  # after a gap
        Point(T0, 0.1234, 0.2, 4, 3),
        Point(T0 + timedelta(minutes=1), None, None, 2, 0),
    ]
    series = shape_check_series(
        Source.FIVE_MINUTES,
        T0 - timedelta(days=1),
        T0 + timedelta(hours=1),
        points,
        timedelta(minutes=3),
    )
    assert series == {
        "source": "5m",
        "resolution": 300,
        "start": E0 - 86400,
        "end": E0 + 3600,
        "t": [E0, E0 + 60, E0 + 60 + 180, E0 + 600],
        "latency_ms": [123.4, None, None, 300.0],
        "latency_max_ms": [200.0, None, None, 300.0],
        "ok_percent": [75.0, 0.0, None, 100.0],
    }


def test_shape_check_series_empty() -> None:
    series = shape_check_series(Source.RAW, T0, T0 + timedelta(hours=24), [], timedelta(minutes=3))
    assert series["t"] == series["latency_ms"] == series["ok_percent"] == []
    assert series["source"] == "raw"


def test_summarise_weights_average_by_samples() -> None:
    points = [Point(T0, 0.1, 0.5, 3, 3), Point(T0, 0.2, 0.25, 1, 0), Point(T0, None, None, 4, 1)]
    summary = summarise(points)
    assert summary.points == 3
    assert summary.samples == 8
    assert summary.ok_percent == 50.0
    assert summary.latency_min_ms == 100.0
    assert summary.latency_avg_ms == 125.0  # (0.1*3 + 0.2*1) / 4
    assert summary.latency_max_ms == 500.0


def test_summarise_nothing() -> None:
    summary = summarise([])
    assert (summary.samples, summary.ok_percent, summary.latency_avg_ms) == (0, None, None)


@pytest.mark.parametrize(
    ("name", "graphed"),
    [
        ("cpu_percent", True),
        ("mem_percent", True),
        ("load1", True),
        ("fs:/:percent", True),
        ("fs:/var/lib:percent", True),
        ("load5", False),
        ("raid:md0:degraded", False),
        ("smart:sda:failed", False),
        ("fs:/", False),
        ("swap_percent", False),
    ],
)
def test_is_graphed_metric(name: str, graphed: bool) -> None:
    assert is_graphed_metric(name) is graphed


@pytest.mark.parametrize(
    ("span", "bucket"),
    [(timedelta(hours=24), 0), (timedelta(hours=25), 3600), (timedelta(days=365), 3600)],
)
def test_metric_bucket(span: timedelta, bucket: int) -> None:
    assert metric_bucket(span) == bucket


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("cpu_percent", "CPU"),
        ("mem_percent", "Memory"),
        ("load1", "Load (1 min)"),
        ("fs:/srv:percent", "File system /srv"),
    ],
)
def test_metric_label(name: str, label: str) -> None:
    with translation.override("en"):
        assert metric_label(name) == label


def test_shape_metric_series_aligns_and_groups() -> None:
    rows = [
        ("load1", T0, 0.5),
        ("fs:/:percent", T0, 40.0),
        ("cpu_percent", T0, 12.345),
        ("cpu_percent", T0 + timedelta(minutes=1), 20.0),
        ("raid:md0:degraded", T0, 1.0),  # not graphed
    ]
    with translation.override("en"):
        series = shape_metric_series(rows, T0, T0 + timedelta(hours=1), 0)
    assert series == {
        "bucket": 0,
        "start": E0,
        "end": E0 + 3600,
        "t": [E0, E0 + 60],
        "series": {
            "cpu_percent": [12.35, 20.0],
            "load1": [0.5, None],
            "fs:/:percent": [40.0, None],
        },
        "labels": {"cpu_percent": "CPU", "load1": "Load (1 min)", "fs:/:percent": "File system /"},
        "charts": [
            {
                "id": "percent",
                "title": "Utilisation",
                "unit": "%",
                "series": ["cpu_percent", "fs:/:percent"],
            },
            {"id": "load", "title": "Load", "unit": "", "series": ["load1"]},
        ],
    }


def test_shape_metric_series_without_load_has_one_chart() -> None:
    series = shape_metric_series([("mem_percent", T0, 50.0)], T0, T0, 3600)
    assert [c["id"] for c in series["charts"]] == ["percent"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00:00"), (59, "0:00:59"), (3600, "1:00:00"), (3 * 86400 + 3723, "73:02:03")],
)
def test_hms(seconds: int, text: str) -> None:
    assert hms(timedelta(seconds=seconds)) == text


@pytest.mark.parametrize(
    ("language", "ratio", "text"),
    [
        ("en", 0.999537, "99.953 %"),
        ("de", 0.999537, "99,953 %"),
        ("en", 0.9995, "99.950 %"),
        ("en", 0.9999996, "99.999 %"),
        ("en", 0.0, "0.000 %"),
        ("en", 1.0, "100.000 %"),
        ("en", None, "–"),
    ],
)
def test_percent(language: str, ratio: float | None, text: str) -> None:
    with translation.override(language):
        assert percent(ratio) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [("ok", "OK"), ("critical", "critical"), ("pending", "pending"), ("bogus", "bogus")],
)
def test_state_label(value: str, text: str) -> None:
    with translation.override("en"):
        assert state_label(value) == text
