"""Maintenance windows (maintenance/windows.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leitstand.maintenance.windows import MaintenanceWindow, parse_days

ALL_WEEK = frozenset(range(7))
# managedhosting.yaml: example window for MSP Advanced automatic updates.
NIGHTLY = MaintenanceWindow("Europe/Berlin", ALL_WEEK, time(1), time(5))
# webosa.yaml, seed 002 §1.2 "daily between 01:00 and 08:00 (CET)".
SCHEDULED = MaintenanceWindow("Europe/Amsterdam", ALL_WEEK, time(1), time(8))
# Over midnight, starting on Fridays only: ends Saturday 04:00.
FRIDAY_NIGHT = MaintenanceWindow("Europe/Berlin", frozenset({4}), time(22), time(4))
# Starts in the hour the spring clock change skips (02:00 -> 03:00 in Berlin).
LATE_START = MaintenanceWindow("Europe/Berlin", ALL_WEEK, time(2, 30), time(4))
# Lies entirely in the skipped hour: no window that night.
SKIPPED = MaintenanceWindow("Europe/Berlin", ALL_WEEK, time(2), time(3))
# Starts in the hour the autumn clock change repeats (02:00-03:00 twice).
REPEATED_START = MaintenanceWindow("Europe/Berlin", ALL_WEEK, time(2, 30), time(5))
# Ends in the repeated hour: at the first 02:30.
REPEATED_END = MaintenanceWindow("Europe/Berlin", ALL_WEEK, time(0), time(2, 30))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def printed(moments: list[tuple[datetime, datetime]]) -> list[tuple[str, str]]:
    # Compared as printed: the same moment *and* the window's own offset.
    # (``==`` would not do: PEP 495 makes a time in the repeated autumn hour
    # unequal to every time in another zone, even the same moment.)
    return [(s.isoformat(), e.isoformat()) for s, e in moments]


@pytest.mark.parametrize(
    ("window", "moment", "in_window", "next_start"),
    [
        # managedhosting.yaml
        (NIGHTLY, "2026-11-20T15:00:00+01:00", False, "2026-11-21T01:00:00+01:00"),
        # webosa.yaml
        (SCHEDULED, "2026-07-01T01:30:00+02:00", True, "2026-07-02T01:00:00+02:00"),
        (SCHEDULED, "2026-07-01T08:00:00+02:00", False, "2026-07-02T01:00:00+02:00"),
        (SCHEDULED, "2026-03-29T07:30:00+02:00", True, "2026-03-30T01:00:00+02:00"),
    ],
)
def test_scenario_windows(
    window: MaintenanceWindow, moment: str, in_window: bool, next_start: str
) -> None:
    assert window.contains(at(moment)) is in_window
    assert window.next_start(at(moment)).isoformat() == next_start


@pytest.mark.parametrize(
    ("window", "moment", "in_window", "next_start"),
    [
        # The start is inside, and the next start is the next day's.
        (SCHEDULED, "2026-07-01T01:00:00+02:00", True, "2026-07-02T01:00:00+02:00"),
        (SCHEDULED, "2026-07-01T00:59:59+02:00", False, "2026-07-01T01:00:00+02:00"),
        (SCHEDULED, "2026-07-01T07:59:59+02:00", True, "2026-07-02T01:00:00+02:00"),
        # The same moments written in UTC.
        (SCHEDULED, "2026-06-30T23:00:00+00:00", True, "2026-07-02T01:00:00+02:00"),
        (SCHEDULED, "2026-07-01T06:00:00+00:00", False, "2026-07-02T01:00:00+02:00"),
        # Friday-only window over midnight (20 November 2026 is a Friday).
        (FRIDAY_NIGHT, "2026-11-19T23:00:00+01:00", False, "2026-11-20T22:00:00+01:00"),
        (FRIDAY_NIGHT, "2026-11-20T21:59:00+01:00", False, "2026-11-20T22:00:00+01:00"),
        (FRIDAY_NIGHT, "2026-11-20T22:00:00+01:00", True, "2026-11-27T22:00:00+01:00"),
        (FRIDAY_NIGHT, "2026-11-21T03:59:00+01:00", True, "2026-11-27T22:00:00+01:00"),
        (FRIDAY_NIGHT, "2026-11-21T04:00:00+01:00", False, "2026-11-27T22:00:00+01:00"),
        (FRIDAY_NIGHT, "2026-11-21T22:30:00+01:00", False, "2026-11-27T22:00:00+01:00"),
        # Spring night in Amsterdam (29 March 2026): 01:00+01:00 to 08:00+02:00.
        (SCHEDULED, "2026-03-29T00:59:00+01:00", False, "2026-03-29T01:00:00+01:00"),
        (SCHEDULED, "2026-03-29T01:59:00+01:00", True, "2026-03-30T01:00:00+02:00"),
        (SCHEDULED, "2026-03-29T03:00:00+02:00", True, "2026-03-30T01:00:00+02:00"),
        (SCHEDULED, "2026-03-29T05:59:59+00:00", True, "2026-03-30T01:00:00+02:00"),
        (SCHEDULED, "2026-03-29T08:00:00+02:00", False, "2026-03-30T01:00:00+02:00"),
        # Autumn night in Amsterdam (25 October 2026): 01:00+02:00 to 08:00+01:00.
        (SCHEDULED, "2026-10-25T00:59:00+02:00", False, "2026-10-25T01:00:00+02:00"),
        (SCHEDULED, "2026-10-25T02:30:00+01:00", True, "2026-10-26T01:00:00+01:00"),
        (SCHEDULED, "2026-10-25T07:30:00+01:00", True, "2026-10-26T01:00:00+01:00"),
        (SCHEDULED, "2026-10-25T08:00:00+01:00", False, "2026-10-26T01:00:00+01:00"),
        # A start in the skipped hour happens an hour later by the clock.
        (LATE_START, "2026-03-28T12:00:00+01:00", False, "2026-03-29T03:30:00+02:00"),
        (LATE_START, "2026-03-29T03:00:00+02:00", False, "2026-03-29T03:30:00+02:00"),
        (LATE_START, "2026-03-29T03:30:00+02:00", True, "2026-03-30T02:30:00+02:00"),
        (LATE_START, "2026-03-29T04:00:00+02:00", False, "2026-03-30T02:30:00+02:00"),
        # A window inside the skipped hour does not happen that night.
        (SKIPPED, "2026-03-28T12:00:00+01:00", False, "2026-03-30T02:00:00+02:00"),
        (SKIPPED, "2026-03-29T03:00:00+02:00", False, "2026-03-30T02:00:00+02:00"),
        # A start in the repeated hour is its first occurrence; the second
        # 02:45 is still inside, since the window runs to 05:00+01:00.
        (REPEATED_START, "2026-10-25T02:15:00+02:00", False, "2026-10-25T02:30:00+02:00"),
        (REPEATED_START, "2026-10-25T02:30:00+02:00", True, "2026-10-26T02:30:00+01:00"),
        (REPEATED_START, "2026-10-25T02:15:00+01:00", True, "2026-10-26T02:30:00+01:00"),
        (REPEATED_START, "2026-10-25T04:59:00+01:00", True, "2026-10-26T02:30:00+01:00"),
        # An end in the repeated hour is its first occurrence: the second
        # 02:15 (+01:00) is after the window, the first (+02:00) inside it.
        (REPEATED_END, "2026-10-25T02:15:00+02:00", True, "2026-10-26T00:00:00+01:00"),
        (REPEATED_END, "2026-10-25T02:15:00+01:00", False, "2026-10-26T00:00:00+01:00"),
    ],
)
def test_edge_windows(
    window: MaintenanceWindow, moment: str, in_window: bool, next_start: str
) -> None:
    assert window.contains(at(moment)) is in_window
    assert window.next_start(at(moment)).isoformat() == next_start


def test_results_are_in_the_windows_zone() -> None:
    start = NIGHTLY.next_start(datetime(2026, 11, 20, 14, 0, tzinfo=UTC))
    assert start.tzinfo == ZoneInfo("Europe/Berlin")
    assert start.isoformat() == "2026-11-21T01:00:00+01:00"


@pytest.mark.parametrize(
    ("window", "day", "start", "end", "length"),
    [
        (SCHEDULED, date(2026, 7, 1), "2026-07-01T01:00:00+02:00", "2026-07-01T08:00:00+02:00", 7),
        (SCHEDULED, date(2026, 3, 29), "2026-03-29T01:00:00+01:00", "2026-03-29T08:00:00+02:00", 6),
        (
            SCHEDULED,
            date(2026, 10, 25),
            "2026-10-25T01:00:00+02:00",
            "2026-10-25T08:00:00+01:00",
            8,
        ),
        (
            LATE_START,
            date(2026, 3, 29),
            "2026-03-29T03:30:00+02:00",
            "2026-03-29T04:00:00+02:00",
            0.5,
        ),
        (
            REPEATED_START,
            date(2026, 10, 25),
            "2026-10-25T02:30:00+02:00",
            "2026-10-25T05:00:00+01:00",
            3.5,
        ),
        (
            REPEATED_END,
            date(2026, 10, 25),
            "2026-10-25T00:00:00+02:00",
            "2026-10-25T02:30:00+02:00",
            2.5,
        ),
        (
            FRIDAY_NIGHT,
            date(2026, 11, 20),
            "2026-11-20T22:00:00+01:00",
            "2026-11-21T04:00:00+01:00",
            6,
        ),
        # Over midnight into the spring night: Saturday 22:00 to Sunday 04:00 is 5 hours.
        (
            MaintenanceWindow("Europe/Berlin", frozenset({5}), time(22), time(4)),
            date(2026, 3, 28),
            "2026-03-28T22:00:00+01:00",
            "2026-03-29T04:00:00+02:00",
            5,
        ),
    ],
)
def test_occurrence_on_clock_change_nights(
    window: MaintenanceWindow, day: date, start: str, end: str, length: float
) -> None:
    found = window.occurrence(day)
    assert found is not None
    assert printed([found]) == [(start, end)]
    assert found[1].astimezone(UTC) - found[0].astimezone(UTC) == timedelta(hours=length)


def test_no_occurrence_on_other_days_or_when_skipped() -> None:
    assert FRIDAY_NIGHT.occurrence(date(2026, 11, 21)) is None
    assert SKIPPED.occurrence(date(2026, 3, 29)) is None
    assert SKIPPED.occurrence(date(2026, 3, 30)) is not None


@pytest.mark.parametrize(
    ("window", "start", "end", "expected"),
    [
        (
            NIGHTLY,
            "2026-11-20T00:00:00+01:00",
            "2026-11-23T00:00:00+01:00",
            [
                ("2026-11-20T01:00:00+01:00", "2026-11-20T05:00:00+01:00"),
                ("2026-11-21T01:00:00+01:00", "2026-11-21T05:00:00+01:00"),
                ("2026-11-22T01:00:00+01:00", "2026-11-22T05:00:00+01:00"),
            ],
        ),
        # Half-open range: a window that ends where the range starts is out,
        # as is one that starts where the range ends.
        (
            SCHEDULED,
            "2026-07-01T07:00:00+02:00",
            "2026-07-02T01:00:00+02:00",
            [("2026-07-01T01:00:00+02:00", "2026-07-01T08:00:00+02:00")],
        ),
        (SCHEDULED, "2026-07-01T08:00:00+02:00", "2026-07-02T01:00:00+02:00", []),
        # A window that started the day before the range is included.
        (
            FRIDAY_NIGHT,
            "2026-11-21T02:00:00+01:00",
            "2026-11-28T02:00:00+01:00",
            [
                ("2026-11-20T22:00:00+01:00", "2026-11-21T04:00:00+01:00"),
                ("2026-11-27T22:00:00+01:00", "2026-11-28T04:00:00+01:00"),
            ],
        ),
        # The swallowed window leaves a gap on the spring night.
        (
            SKIPPED,
            "2026-03-28T00:00:00+01:00",
            "2026-03-31T00:00:00+02:00",
            [
                ("2026-03-28T02:00:00+01:00", "2026-03-28T03:00:00+01:00"),
                ("2026-03-30T02:00:00+02:00", "2026-03-30T03:00:00+02:00"),
            ],
        ),
    ],
)
def test_occurrences(
    window: MaintenanceWindow, start: str, end: str, expected: list[tuple[str, str]]
) -> None:
    assert printed(window.occurrences(at(start), at(end))) == expected


def test_occurrences_needs_an_ordered_range() -> None:
    with pytest.raises(ValueError, match="before its start"):
        NIGHTLY.occurrences(at("2026-11-21T00:00:00+01:00"), at("2026-11-20T00:00:00+01:00"))


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        NIGHTLY.contains(datetime(2026, 11, 20, 2, 0))
    with pytest.raises(ValueError, match="time zone"):
        NIGHTLY.next_start(datetime(2026, 11, 20, 2, 0))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("sat-sun", {5, 6}),
        ("tue", {1}),
        ("mon-sun", {0, 1, 2, 3, 4, 5, 6}),
        ("fri-mon", {4, 5, 6, 0}),
        ("sun-mon", {6, 0}),
        ("wed-wed", {2}),
        (" Mon - Fri ", {0, 1, 2, 3, 4}),
    ],
)
def test_parse_days(text: str, expected: set[int]) -> None:
    assert parse_days(text) == frozenset(expected)


@pytest.mark.parametrize("text", ["", "mon-", "-fri", "monday", "mo-fr", "mon-tue-wed", "1-5"])
def test_parse_days_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"bad days .*a range such as mon-fri"):
        parse_days(text)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": time(1), "end": time(1)}, "cannot start and end at 01:00"),
        ({"timezone": "Europe/Atlantis"}, "unknown time zone 'Europe/Atlantis'"),
        ({"timezone": "../etc/passwd"}, "unknown time zone"),
        ({"days": frozenset()}, "at least one day"),
        ({"days": frozenset({7})}, "weekdays are 0"),
        ({"start": time(1, tzinfo=UTC)}, "without tzinfo"),
    ],
)
def test_bad_windows(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "timezone": "Europe/Berlin",
        "days": ALL_WEEK,
        "start": time(1),
        "end": time(5),
    }
    fields.update(kwargs)
    with pytest.raises(ValueError, match=message):
        MaintenanceWindow(**fields)  # type: ignore[arg-type]


minutes = st.integers(min_value=0, max_value=24 * 60 - 1).map(lambda m: time(m // 60, m % 60))
zones = st.sampled_from(
    ["Europe/Berlin", "America/New_York", "America/Santiago", "Australia/Lord_Howe", "UTC"]
)


@st.composite
def windows(draw: st.DrawFn) -> MaintenanceWindow:
    start = draw(minutes)
    end = draw(minutes.filter(lambda end: end != start))
    days = draw(st.frozensets(st.integers(min_value=0, max_value=6), min_size=1))
    return MaintenanceWindow(draw(zones), days, start, end)


moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@settings(deadline=None)
@given(windows(), moments)
def test_next_start_is_the_first_window_start_after(
    window: MaintenanceWindow, moment: datetime
) -> None:
    following = window.next_start(moment)
    assert following > moment
    assert following.tzinfo == ZoneInfo(window.timezone)
    # It is a start, and no other start lies between the moment and it.
    starts_after = [
        s
        for s, _ in window.occurrences(moment, following + timedelta(microseconds=1))
        if s > moment
    ]
    assert starts_after == [following]
    assert window.contains(following)
    # It is the window's start time by the clock, unless that time did not
    # exist on that day (and then it was moved forward, not back).
    local = following.replace(tzinfo=None)
    if local.time() != window.start:
        combined = datetime.combine(local.date(), window.start, tzinfo=following.tzinfo)
        assert combined.astimezone(UTC).astimezone(following.tzinfo).replace(
            tzinfo=None
        ) != combined.replace(tzinfo=None)
        assert local.time() > window.start


@settings(deadline=None)
@given(windows(), moments)
def test_contains_agrees_with_occurrences(window: MaintenanceWindow, moment: datetime) -> None:
    around = window.occurrences(moment - timedelta(days=2), moment + timedelta(microseconds=1))
    inside = any(s.astimezone(UTC) <= moment < e.astimezone(UTC) for s, e in around)
    assert window.contains(moment) is inside
