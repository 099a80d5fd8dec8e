"""Durations, sizes and money as the contracts write them (lib/durations.py, lib/money.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leitstand.lib.durations import (
    Duration,
    add_months,
    format_duration,
    format_size,
    parse_duration,
    parse_size,
    parse_timedelta,
    shift,
)
from leitstand.lib.money import format_money, parse_money, round_cents

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "months", "seconds"),
    [
        ("90m", 0, 5400),
        ("1h30m", 0, 5400),
        ("3d", 0, 259200),
        ("120s", 0, 120),
        ("2w", 0, 1209600),
        ("6mo", 6, 0),
        ("1mo", 1, 0),
        ("1m", 0, 60),
        ("6mo14d", 6, 1209600),
        ("0m", 0, 0),
        (" 4h ", 0, 14400),
        ("1h1h", 0, 7200),
    ],
)
def test_parse_duration(text: str, months: int, seconds: int) -> None:
    assert parse_duration(text) == Duration(months=months, seconds=seconds)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "bad duration '': expected <number><unit>... with units s, m, h, d, w, mo"),
        ("5", "bad duration '5': expected <number><unit>"),
        ("5x", "bad duration '5x': expected <number><unit>"),
        ("h5", "bad duration 'h5': expected <number><unit>"),
        ("1.5h", "bad duration '1.5h': expected <number><unit>"),
        ("-5m", "bad duration '-5m': expected <number><unit>"),
        ("1h 30m", "bad duration '1h 30m': expected <number><unit>"),
        ("5M", "bad duration '5M': expected <number><unit>"),
    ],
)
def test_parse_duration_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        parse_duration(text)


def test_parse_duration_refuses_non_text() -> None:
    with pytest.raises(ValueError, match="bad duration 5: expected text such as '4h' or '1h30m'"):
        parse_duration(5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "allow", "message"),
    [
        ("1d", "hm", "bad duration '1d': unit 'd' not allowed here (use h, m)"),
        ("6mo", "hm", "bad duration '6mo': unit 'mo' not allowed here (use h, m)"),
        ("4h30s", "hm", "bad duration '4h30s': unit 's' not allowed here (use h, m)"),
    ],
)
def test_parse_duration_restricted_units(text: str, allow: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        parse_duration(text, allow=allow)


def test_parse_timedelta() -> None:
    assert parse_timedelta("2h1m") == timedelta(hours=2, minutes=1)
    with pytest.raises(ValueError, match=r"unit 'mo' not allowed here \(use s, m, h, d, w\)"):
        parse_timedelta("6mo")


def test_months_have_no_fixed_length() -> None:
    assert Duration(seconds=60).is_fixed
    assert not Duration(months=6).is_fixed
    assert Duration(seconds=60).as_timedelta() == timedelta(minutes=1)
    with pytest.raises(ValueError, match="no fixed length"):
        Duration(months=6).as_timedelta()


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (timedelta(hours=10), "10h"),
        (timedelta(hours=4, minutes=30), "4h30m"),
        (timedelta(0), "0m"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(days=3), "72h"),
        (timedelta(seconds=3605), "1h5s"),
        (timedelta(seconds=45), "45s"),
        (timedelta(seconds=-90), "-1m30s"),
    ],
)
def test_format_duration(value: timedelta, printed: str) -> None:
    assert format_duration(value) == printed


@pytest.mark.parametrize(
    ("duration", "printed"),
    [
        (Duration(months=6), "6mo"),
        (Duration(seconds=1209600), "336h"),
        (Duration(months=1, seconds=86400), "1mo24h"),
        (Duration(), "0m"),
    ],
)
def test_str_duration(duration: Duration, printed: str) -> None:
    assert str(duration) == printed
    assert parse_duration(printed) == duration


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2026, 3, 31, 12, 0), -1, datetime(2026, 2, 28, 12, 0)),
        (datetime(2028, 3, 31, 12, 0), -1, datetime(2028, 2, 29, 12, 0)),
        (datetime(2026, 8, 31, 12, 0), -6, datetime(2026, 2, 28, 12, 0)),
        (datetime(2026, 1, 31, 12, 0), 1, datetime(2026, 2, 28, 12, 0)),
        (datetime(2026, 5, 31, 12, 0), 1, datetime(2026, 6, 30, 12, 0)),
        (datetime(2026, 11, 15, 12, 0), 3, datetime(2027, 2, 15, 12, 0)),
        (datetime(2026, 1, 15, 12, 0), -1, datetime(2025, 12, 15, 12, 0)),
        (datetime(2026, 11, 22, 12, 0), -6, datetime(2026, 5, 22, 12, 0)),
        (datetime(2026, 11, 22, 12, 0), 0, datetime(2026, 11, 22, 12, 0)),
        (datetime(2026, 11, 22, 12, 0), -24, datetime(2024, 11, 22, 12, 0)),
    ],
)
def test_add_months_clamps_to_the_month_end(
    moment: datetime, months: int, expected: datetime
) -> None:
    assert add_months(moment, months) == expected


def test_add_months_keeps_the_wall_clock() -> None:
    # 12:00 in August (CEST) six months back is 12:00 in February (CET).
    result = add_months(datetime(2026, 8, 31, 12, 0, tzinfo=BERLIN), -6)
    assert result.isoformat() == "2026-02-28T12:00:00+01:00"


def test_shift() -> None:
    moment = datetime.fromisoformat("2026-01-31T12:00:00+01:00")
    assert shift(moment, Duration(months=1)).isoformat() == "2026-02-28T12:00:00+01:00"
    assert shift(moment, Duration(months=1, seconds=3600), sign=-1).isoformat() == (
        "2025-12-31T11:00:00+01:00"
    )
    with pytest.raises(ValueError, match="sign must be 1 or -1"):
        shift(moment, Duration(seconds=1), sign=2)


def test_shift_days_are_real_time_across_the_clock_change() -> None:
    moment = datetime(2026, 3, 29, 12, 0, tzinfo=BERLIN)  # 10:00 UTC
    result = shift(moment, Duration(seconds=86400), sign=-1)
    assert result.astimezone(UTC) == datetime(2026, 3, 28, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("300MiB", 300 * 1024**2),
        ("2GiB", 2 * 1024**3),
        ("1TiB", 1024**4),
        ("4KiB", 4096),
        ("500MB", 500_000_000),
        ("1kB", 1000),
        ("1B", 1),
        (" 50MiB ", 50 * 1024**2),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_parse_size_passes_byte_counts() -> None:
    assert parse_size(42) == 42  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "2", "2 GiB", "2gib", "2.5GiB", "GiB", "-1MiB", True])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"bad size .*: expected <number><unit> with B, KiB"):
        parse_size(text)


@pytest.mark.parametrize(
    ("size", "printed"),
    [
        (2 * 1024**3, "2GiB"),
        (300 * 1024**2, "300MiB"),
        (3 * 1024, "3KiB"),
        (1536, "1536B"),
        (1024**4, "1TiB"),
        (0, "0B"),
    ],
)
def test_format_size(size: int, printed: str) -> None:
    assert format_size(size) == printed


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("30.00", "30.00"),
        ("30", "30.00"),
        ("30.5", "30.50"),
        (" 35.00 ", "35.00"),
        ("-5.00", "-5.00"),
        (30, "30.00"),
        (Decimal("1.5"), "1.50"),
    ],
)
def test_parse_money(text: object, amount: str) -> None:
    result = parse_money(text)
    assert result == Decimal(amount)
    assert str(result) == amount


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (0.1, "write money as a quoted decimal"),
        (True, "write money as a quoted decimal"),
        (None, "write money as a quoted decimal"),
        ("30.001", "at most two places"),
        ("1e3", "at most two places"),
        ("30,00", "at most two places"),
        ("", "at most two places"),
    ],
)
def test_parse_money_refuses(text: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_money(text)


@pytest.mark.parametrize(
    ("amount", "rounded"),
    [
        ("0.005", "0.01"),
        ("0.015", "0.02"),
        ("2.675", "2.68"),
        ("0.004999", "0.00"),
        ("-0.005", "-0.01"),
        ("12.3", "12.30"),
        ("100", "100.00"),
    ],
)
def test_round_cents_half_up(amount: str, rounded: str) -> None:
    assert str(round_cents(Decimal(amount))) == rounded
    assert format_money(Decimal(amount)) == rounded


@given(st.integers(min_value=0, max_value=10**7))
def test_format_and_parse_duration_round_trip(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_timedelta(format_duration(value)) == value


@given(st.integers(min_value=0, max_value=48), st.integers(min_value=0, max_value=10**7))
def test_str_and_parse_duration_round_trip(months: int, seconds: int) -> None:
    duration = Duration(months=months, seconds=seconds)
    assert parse_duration(str(duration)) == duration


@given(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 12, 31)),
    st.integers(min_value=-240, max_value=240),
)
def test_add_months_round_trips_below_day_29(moment: datetime, months: int) -> None:
    result = add_months(moment, months)
    assert (result.year * 12 + result.month) - (moment.year * 12 + moment.month) == months
    assert result.day <= moment.day
    assert result.time() == moment.time()
    if moment.day <= 28:
        assert add_months(result, -months) == moment


@given(
    st.integers(min_value=0, max_value=10**6),
    st.sampled_from(["B", "KiB", "MiB", "GiB", "TiB"]),
)
def test_size_round_trip(number: int, unit: str) -> None:
    size = parse_size(f"{number}{unit}")
    assert parse_size(format_size(size)) == size
