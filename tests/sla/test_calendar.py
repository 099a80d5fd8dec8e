"""BusinessCalendar: office hours, holidays, closed days, clock changes.

Every expected value is worked out by hand from the calendar's rules; the
comment on a row says how where it is not obvious.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from leitstand.sla.bench import main as bench_main
from leitstand.sla.calendar import BusinessCalendar, HolidaySpec

BERLIN = ZoneInfo("Europe/Berlin")
MON_FRI = range(5)
NINE_TO_FIVE = [(time(9), time(17))]


def at(text: str) -> datetime:
    """An instant written the way the scenario files write it."""
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None
    return moment


def same_instant(result: datetime, expected: datetime) -> bool:
    """Same moment and same printed offset.

    Not ``result == expected``: PEP 495 makes an instant in a repeated autumn
    hour compare unequal to every datetime in another zone, even the same moment.
    """
    return result.astimezone(UTC) == expected.astimezone(UTC) and (
        result.utcoffset() == expected.utcoffset()
    )


def office(zone: str, holidays: HolidaySpec | None = None) -> BusinessCalendar:
    """Mon-Fri 09:00-17:00, the hours of both seeds."""
    return BusinessCalendar(zone, dict.fromkeys(MON_FRI, NINE_TO_FIVE), holidays)


def every_day(*ranges: tuple[time, time | None]) -> dict[int, list[tuple[time, time | None]]]:
    return {day: list(ranges) for day in range(7)}


CALENDARS: dict[str, BusinessCalendar] = {
    # seitenbau.yaml: seed 004, "Mo. – Fr. 9 - 17 Uhr, außer an Feiertagen in Baden-Württemberg"
    "seitenbau": office("Europe/Berlin", HolidaySpec("DE", "BW")),
    # The same hours in Berlin (state BE): no Epiphany, no Corpus Christi.
    "berlin": office("Europe/Berlin", HolidaySpec("DE", "BE")),
    # webosa.yaml: seed 002, office hours 09:00-17:00 Mon-Fri, no holidays named.
    "webosa": office("Europe/Amsterdam"),
    # Lunch break and an extra closed day (New Year's Eve).
    "lunch": BusinessCalendar(
        "Europe/Berlin",
        {day: [(time(8), time(12)), (time(13), time(17))] for day in MON_FRI},
        HolidaySpec("DE", "BW"),
        closed=[date(2026, 12, 31)],
    ),
    # A late shift on Friday running to 24:00 into Saturday 00:00-02:00.
    "late": BusinessCalendar(
        "Europe/Berlin",
        {
            **dict.fromkeys(range(4), NINE_TO_FIVE),
            4: [(time(9), time(17)), (time(18), None)],
            5: [(time(0), time(2)), (time(10), time(14))],
        },
    ),
    "always": BusinessCalendar("Europe/Berlin", every_day((time(0), None))),
}


# -- construction -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Europe/Berlinn"}, "unknown time zone 'Europe/Berlinn'"),
        ({"timezone": ""}, "unknown time zone ''"),
        ({"timezone": "../etc/passwd"}, "unknown time zone"),
        ({"timezone": "Europe"}, "unknown time zone 'Europe'"),
        ({"holidays": HolidaySpec("XX")}, "unknown holiday calendar 'XX'"),
        ({"holidays": HolidaySpec("DE", "XY")}, "unknown holiday calendar 'DE/XY'"),
        ({"holidays": HolidaySpec("de", "BW")}, "unknown holiday calendar 'de/BW'"),
        ({"hours": {0: [(time(17), time(9))]}}, "ends before it starts"),
        ({"hours": {0: [(time(9), time(9))]}}, "ends before it starts"),
        ({"hours": {0: [(time(9), time(0))]}}, "ends before it starts"),
        ({"hours": {2: [(time(8), time(12)), (time(11), time(17))]}}, "Wednesday: ranges overlap"),
        ({"hours": {2: [(time(13), None), (time(8), time(14))]}}, "ranges overlap"),
        ({"hours": {7: NINE_TO_FIVE}}, "bad weekday 7"),
        ({"hours": {-1: NINE_TO_FIVE}}, "bad weekday -1"),
        ({"hours": {0: [(time(9, tzinfo=UTC), time(17))]}}, "wall-clock"),
        ({"closed": [datetime(2026, 1, 2, tzinfo=UTC)]}, "closed days must be dates"),
    ],
)
def test_invalid_calendar_is_refused(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"timezone": "Europe/Berlin", "hours": {0: NINE_TO_FIVE}}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        BusinessCalendar(**arguments)  # type: ignore[arg-type]


def test_adjacent_ranges_merge_instead_of_overlapping() -> None:
    calendar = BusinessCalendar("Europe/Berlin", {0: [(time(12), time(17)), (time(8), time(12))]})
    assert calendar.elapsed(at("2026-03-02T00:00+01:00"), at("2026-03-03T00:00+01:00")) == (
        timedelta(hours=9)
    )
    result = calendar.add(at("2026-03-02T11:00+01:00"), timedelta(hours=2))
    assert same_instant(result, at("2026-03-02T13:00+01:00"))


def test_timezone_attribute_is_the_zone() -> None:
    assert CALENDARS["webosa"].timezone == ZoneInfo("Europe/Amsterdam")


# -- is_open ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "instant", "expected"),
    [
        ("seitenbau", "2026-03-02T09:00:00+01:00", True),  # start inclusive
        ("seitenbau", "2026-03-02T08:59:59.999999+01:00", False),
        ("seitenbau", "2026-03-02T16:59:59.999999+01:00", True),
        ("seitenbau", "2026-03-02T17:00:00+01:00", False),  # end exclusive
        ("seitenbau", "2026-03-02T08:00:00+00:00", True),  # 09:00 in Berlin
        ("seitenbau", "2026-03-07T12:00:00+01:00", False),  # Saturday
        ("seitenbau", "2026-06-04T12:00:00+02:00", False),  # Corpus Christi in BW
        ("berlin", "2026-06-04T12:00:00+02:00", True),  # ... not in Berlin
        ("seitenbau", "2026-01-06T12:00:00+01:00", False),  # Epiphany in BW
        ("berlin", "2026-01-06T12:00:00+01:00", True),
        ("seitenbau", "2026-12-24T12:00:00+01:00", True),  # 24 December is a working day
        ("seitenbau", "2026-12-25T12:00:00+01:00", False),
        ("lunch", "2026-03-02T12:00:00+01:00", False),
        ("lunch", "2026-03-02T12:59:59+01:00", False),
        ("lunch", "2026-03-02T13:00:00+01:00", True),
        ("lunch", "2026-12-31T10:00:00+01:00", False),  # extra closed day
        ("late", "2026-03-06T23:59:59+01:00", True),
        ("late", "2026-03-07T00:00:00+01:00", True),  # Friday 24:00 runs into Saturday
        ("late", "2026-03-07T02:00:00+01:00", False),
        ("late", "2026-03-06T17:30:00+01:00", False),
        ("always", "2026-03-29T02:30:00+00:00", True),
    ],
)
def test_is_open(name: str, instant: str, expected: bool) -> None:
    assert CALENDARS[name].is_open(at(instant)) is expected


# -- add ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "start", "duration", "expected"),
    [
        # Inside office hours.
        ("seitenbau", "2026-03-02T10:00+01:00", timedelta(hours=1), "2026-03-02T11:00+01:00"),
        # Work running out at 17:00 sharp is due at 17:00, not at 09:00 next day.
        ("seitenbau", "2026-03-02T16:00+01:00", timedelta(hours=1), "2026-03-02T17:00+01:00"),
        ("seitenbau", "2026-03-02T09:00+01:00", timedelta(hours=8), "2026-03-02T17:00+01:00"),
        ("seitenbau", "2026-03-02T09:00+01:00", timedelta(hours=9), "2026-03-03T10:00+01:00"),
        # Starting exactly at the end of the day: that instant is closed.
        ("seitenbau", "2026-03-02T17:00+01:00", timedelta(hours=1), "2026-03-03T10:00+01:00"),
        # Before office hours, at the opening, in the evening.
        ("seitenbau", "2026-03-02T07:00+01:00", timedelta(hours=1), "2026-03-02T10:00+01:00"),
        ("seitenbau", "2026-03-02T20:00+01:00", timedelta(minutes=1), "2026-03-03T09:01+01:00"),
        # Weekend and Friday afternoon.
        ("seitenbau", "2026-03-07T12:00+01:00", timedelta(hours=2), "2026-03-09T11:00+01:00"),
        ("seitenbau", "2026-03-06T16:30+01:00", timedelta(hours=1), "2026-03-09T09:30+01:00"),
        # The start given in another zone is the same instant.
        ("seitenbau", "2026-03-06T15:30+00:00", timedelta(hours=1), "2026-03-09T09:30+01:00"),
        # Corpus Christi (Thu 4 June 2026) is a holiday in BW, not in Berlin.
        ("seitenbau", "2026-06-03T16:00+02:00", timedelta(hours=2), "2026-06-05T10:00+02:00"),
        ("berlin", "2026-06-03T16:00+02:00", timedelta(hours=2), "2026-06-04T10:00+02:00"),
        ("seitenbau", "2026-06-04T10:00+02:00", timedelta(hours=1), "2026-06-05T10:00+02:00"),
        ("berlin", "2026-06-04T10:00+02:00", timedelta(hours=1), "2026-06-04T11:00+02:00"),
        # Epiphany (Tue 6 January 2026) in BW.
        ("seitenbau", "2026-01-05T16:30+01:00", timedelta(hours=8), "2026-01-07T16:30+01:00"),
        ("berlin", "2026-01-05T16:30+01:00", timedelta(hours=8), "2026-01-06T16:30+01:00"),
        # Christmas: 24 December is a working day, 25 and 26 are not.
        ("seitenbau", "2026-12-23T16:00+01:00", timedelta(hours=2), "2026-12-24T10:00+01:00"),
        ("seitenbau", "2026-12-24T16:00+01:00", timedelta(hours=2), "2026-12-28T10:00+01:00"),
        ("seitenbau", "2026-12-23T10:00+01:00", timedelta(hours=24), "2026-12-29T10:00+01:00"),
        # New Year: 31 December works, 1 January (Friday 2027) is a holiday.
        ("seitenbau", "2026-12-31T16:00+01:00", timedelta(hours=2), "2027-01-04T10:00+01:00"),
        # Easter 2026: Good Friday 3 April, Easter Monday 6 April.
        ("seitenbau", "2026-04-02T16:00+02:00", timedelta(hours=2), "2026-04-07T10:00+02:00"),
        # Office hours are wall-clock hours, also across the clock changes.
        ("seitenbau", "2026-03-27T16:00+01:00", timedelta(hours=2), "2026-03-30T10:00+02:00"),
        ("webosa", "2026-10-23T16:00+02:00", timedelta(hours=8), "2026-10-26T16:00+01:00"),
        # Zero returns the start, even when closed.
        ("seitenbau", "2026-03-07T12:00+01:00", timedelta(0), "2026-03-07T12:00+01:00"),
        # Sub-minute precision: 0.5 s left on Monday, 0.5 s on Tuesday.
        (
            "seitenbau",
            "2026-03-02T16:59:59.500000+01:00",
            timedelta(seconds=1),
            "2026-03-03T09:00:00.500000+01:00",
        ),
        (
            "seitenbau",
            "2026-03-02T10:00+01:00",
            timedelta(microseconds=1),
            "2026-03-02T10:00:00.000001+01:00",
        ),
        # Lunch break 12:00-13:00.
        ("lunch", "2026-03-02T11:30+01:00", timedelta(hours=1), "2026-03-02T13:30+01:00"),
        ("lunch", "2026-03-02T11:00+01:00", timedelta(hours=1), "2026-03-02T12:00+01:00"),
        ("lunch", "2026-03-02T12:30+01:00", timedelta(hours=1), "2026-03-02T14:00+01:00"),
        ("lunch", "2026-03-02T12:00+01:00", timedelta(hours=4), "2026-03-02T17:00+01:00"),
        ("lunch", "2026-03-02T08:00+01:00", timedelta(hours=8), "2026-03-02T17:00+01:00"),
        # 30 Dec: 1 h; 31 Dec closed; 1 Jan holiday; weekend; Mon 4 Jan 08:00 + 1 h.
        ("lunch", "2026-12-30T16:00+01:00", timedelta(hours=2), "2027-01-04T09:00+01:00"),
        # Friday late shift runs through midnight into Saturday.
        ("late", "2026-03-06T23:00+01:00", timedelta(hours=1), "2026-03-07T00:00+01:00"),
        ("late", "2026-03-06T23:00+01:00", timedelta(hours=2), "2026-03-07T01:00+01:00"),
        ("late", "2026-03-06T17:30+01:00", timedelta(hours=1), "2026-03-06T19:00+01:00"),
        ("late", "2026-03-07T01:30+01:00", timedelta(hours=1), "2026-03-07T10:30+01:00"),
        ("late", "2026-03-07T13:00+01:00", timedelta(hours=2), "2026-03-09T10:00+01:00"),
        # Around the clock: a day of the spring change has 23 hours, of autumn 25.
        ("always", "2026-03-28T12:00+01:00", timedelta(hours=24), "2026-03-29T13:00+02:00"),
        ("always", "2026-10-24T12:00+02:00", timedelta(hours=24), "2026-10-25T11:00+01:00"),
        # 1,000 business hours from Monday 5 January 2026 in BW: 125 working days.
        # Working days from 5 Jan: Jan 19 (6 Jan off), Feb 20, Mar 22, Apr 20
        # (3 and 6 Apr off) = 81; May has 21 weekdays minus 1, 14, 25 May = 18
        # (99); June: 22 weekdays minus 4 June = 21 (120); 5 more in July:
        # 1, 2, 3, 6, 7 July; the 125th ends at 17:00 on Tuesday 7 July.
        ("seitenbau", "2026-01-05T09:00+01:00", timedelta(hours=1000), "2026-07-07T17:00+02:00"),
    ],
)
def test_add(name: str, start: str, duration: timedelta, expected: str) -> None:
    result = CALENDARS[name].add(at(start), duration)
    assert same_instant(result, at(expected))
    # Answers are printed in the calendar's own zone.
    assert result.tzinfo == CALENDARS[name].timezone


def test_add_returns_the_calendar_zone_for_zero_too() -> None:
    result = CALENDARS["seitenbau"].add(at("2026-03-07T11:00+00:00"), timedelta(0))
    assert result.tzinfo == BERLIN
    assert result.isoformat() == "2026-03-07T12:00:00+01:00"


def test_add_refuses_negative_durations() -> None:
    with pytest.raises(ValueError, match="negative"):
        CALENDARS["seitenbau"].add(at("2026-03-02T10:00+01:00"), timedelta(seconds=-1))


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.add(datetime(2026, 3, 2, 10), timedelta(hours=1)),
        lambda c: c.elapsed(datetime(2026, 3, 2, 10), at("2026-03-02T12:00+01:00")),
        lambda c: c.elapsed(at("2026-03-02T12:00+01:00"), datetime(2026, 3, 2, 14)),
        lambda c: c.is_open(datetime(2026, 3, 2, 10)),
        lambda c: c.next_open(datetime(2026, 3, 2, 10)),
    ],
)
def test_naive_datetimes_are_refused(call: object) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call(CALENDARS["seitenbau"])  # type: ignore[operator]


def test_calendar_without_hours_raises_instead_of_looping() -> None:
    never = BusinessCalendar("Europe/Berlin", {}, HolidaySpec("DE"))
    start = at("2026-03-02T10:00+01:00")
    with pytest.raises(ValueError, match="no office hours"):
        never.add(start, timedelta(minutes=1))
    with pytest.raises(ValueError, match="no office hours"):
        never.next_open(start)
    with pytest.raises(ValueError, match="no office hours"):
        never.next_business_day(date(2026, 3, 2))
    assert never.add(start, timedelta(0)) == start
    assert never.elapsed(start, start + timedelta(days=400)) == timedelta(0)
    assert never.is_business_day(date(2026, 3, 2)) is False


def test_calendar_with_empty_ranges_lists_has_no_hours() -> None:
    never = BusinessCalendar("UTC", {day: [] for day in range(7)})
    with pytest.raises(ValueError, match="no office hours"):
        never.add(at("2026-03-02T10:00+00:00"), timedelta(hours=1))


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        # Amsterdam had no daylight saving time in 1970 (CET all year).
        ("1970-01-02T16:00+01:00", timedelta(hours=2), "1970-01-05T10:00+01:00"),
        # 1 January 2200 is a Wednesday.
        ("2200-01-01T16:30+01:00", timedelta(hours=1), "2200-01-02T09:30+01:00"),
        # Friday 2200-01-03 16:00 + 2 h -> Monday 2200-01-06 10:00.
        ("2200-01-03T16:00+01:00", timedelta(hours=2), "2200-01-06T10:00+01:00"),
    ],
)
def test_far_years_are_built_lazily(start: str, duration: timedelta, expected: str) -> None:
    calendar = office("Europe/Amsterdam")
    # Ask 2026 first so that the far years extend an existing table both ways.
    result = calendar.add(at("2026-11-20T16:30+01:00"), timedelta(hours=1))
    assert same_instant(result, at("2026-11-23T09:30+01:00"))
    assert same_instant(calendar.add(at(start), duration), at(expected))
    assert calendar.elapsed(at(start), at(expected)) == duration


def test_years_outside_the_supported_span_are_refused() -> None:
    with pytest.raises(ValueError, match="years 1900-2500"):
        CALENDARS["webosa"].add(at("2600-01-01T10:00+01:00"), timedelta(hours=1))


def test_long_targets_extend_the_table_far_ahead() -> None:
    # 20,000 business hours = 2,500 days of 8 hours, about ten years ahead.
    calendar = office("UTC")
    start = at("2026-01-05T09:00+00:00")
    result = calendar.add(start, timedelta(hours=20_000))
    assert calendar.elapsed(start, result) == timedelta(hours=20_000)
    assert result.year == 2035
    assert result.time() == time(17)


# -- elapsed ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "start", "end", "expected"),
    [
        # seitenbau.yaml "business hours over Christmas": 1 h on 23 Dec, 8 h on
        # 24 Dec, 25/26 Dec holidays and weekend, 1 h on Monday 28 Dec.
        ("seitenbau", "2026-12-23T16:00+01:00", "2026-12-28T10:00+01:00", timedelta(hours=10)),
        # webosa.yaml "between Friday afternoon and Monday morning".
        (
            "webosa",
            "2026-11-20T15:00+01:00",
            "2026-11-23T10:30+01:00",
            timedelta(hours=3, minutes=30),
        ),
        ("seitenbau", "2026-03-02T10:00+01:00", "2026-03-02T12:00+01:00", timedelta(hours=2)),
        ("seitenbau", "2026-03-02T07:00+01:00", "2026-03-02T20:00+01:00", timedelta(hours=8)),
        ("seitenbau", "2026-03-07T00:00+01:00", "2026-03-09T00:00+01:00", timedelta(0)),
        ("seitenbau", "2026-03-02T12:00+01:00", "2026-03-02T10:00+01:00", timedelta(0)),
        ("seitenbau", "2026-03-02T12:00+01:00", "2026-03-02T12:00+01:00", timedelta(0)),
        ("seitenbau", "2026-06-03T00:00+02:00", "2026-06-06T00:00+02:00", timedelta(hours=16)),
        ("berlin", "2026-06-03T00:00+02:00", "2026-06-06T00:00+02:00", timedelta(hours=24)),
        ("lunch", "2026-03-02T11:00+01:00", "2026-03-02T14:00+01:00", timedelta(hours=2)),
        # 28-30 Dec: 24 h; 31 Dec closed; 1 Jan holiday; weekend; Mon 4 Jan: 8 h.
        ("lunch", "2026-12-28T00:00+01:00", "2027-01-05T00:00+01:00", timedelta(hours=32)),
        ("late", "2026-03-06T00:00+01:00", "2026-03-08T00:00+01:00", timedelta(hours=20)),
        # A whole year: 2026 has 261 weekdays. BW loses 9 of them to holidays
        # (1 Jan, 6 Jan, 3 Apr, 6 Apr, 1 May, 14 May, 25 May, 4 Jun, 25 Dec),
        # Berlin 7 (no Epiphany, no Corpus Christi; 8 March is a Sunday).
        ("seitenbau", "2026-01-01T00:00+01:00", "2027-01-01T00:00+01:00", timedelta(hours=252 * 8)),
        ("berlin", "2026-01-01T00:00+01:00", "2027-01-01T00:00+01:00", timedelta(hours=254 * 8)),
        ("always", "2026-03-29T00:00+01:00", "2026-03-30T00:00+02:00", timedelta(hours=23)),
        ("always", "2026-10-25T00:00+02:00", "2026-10-26T00:00+01:00", timedelta(hours=25)),
        (
            "seitenbau",
            "2026-03-02T16:59:59.999999+01:00",
            "2026-03-03T09:00:00.000001+01:00",
            timedelta(microseconds=2),
        ),
    ],
)
def test_elapsed(name: str, start: str, end: str, expected: timedelta) -> None:
    assert CALENDARS[name].elapsed(at(start), at(end)) == expected


# -- days -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "after", "expected"),
    [
        # seitenbau.yaml cases.
        ("seitenbau", date(2026, 12, 25), date(2026, 12, 28)),
        ("seitenbau", date(2026, 12, 31), date(2027, 1, 4)),
        ("seitenbau", date(2026, 12, 23), date(2026, 12, 24)),
        ("seitenbau", date(2026, 3, 6), date(2026, 3, 9)),  # Friday -> Monday
        ("seitenbau", date(2026, 3, 7), date(2026, 3, 9)),  # Saturday -> Monday
        ("seitenbau", date(2026, 4, 2), date(2026, 4, 7)),  # Easter
        ("seitenbau", date(2026, 6, 3), date(2026, 6, 5)),  # Corpus Christi in BW
        ("berlin", date(2026, 6, 3), date(2026, 6, 4)),
        ("lunch", date(2026, 12, 30), date(2027, 1, 4)),  # closed 31 Dec, holiday 1 Jan
        ("late", date(2026, 3, 6), date(2026, 3, 7)),  # Saturday has hours here
    ],
)
def test_next_business_day(name: str, after: date, expected: date) -> None:
    assert CALENDARS[name].next_business_day(after) == expected


@pytest.mark.parametrize(
    ("name", "day", "expected"),
    [
        ("seitenbau", date(2026, 3, 2), True),
        ("seitenbau", date(2026, 3, 7), False),
        ("seitenbau", date(2026, 6, 4), False),
        ("berlin", date(2026, 6, 4), True),
        ("seitenbau", date(2026, 12, 24), True),
        ("lunch", date(2026, 12, 31), False),
        ("seitenbau", date(2026, 12, 31), True),
        ("late", date(2026, 3, 7), True),
    ],
)
def test_is_business_day(name: str, day: date, expected: bool) -> None:
    assert CALENDARS[name].is_business_day(day) is expected


@pytest.mark.parametrize(
    ("name", "day", "expected"),
    [
        ("seitenbau", date(2026, 6, 4), "Corpus Christi"),
        ("berlin", date(2026, 6, 4), None),
        ("seitenbau", date(2026, 1, 6), "Epiphany"),
        ("seitenbau", date(2026, 12, 24), None),
        ("seitenbau", date(2026, 12, 25), "Christmas Day"),
        # A holiday on a Saturday: the name says more than "weekend".
        ("seitenbau", date(2026, 12, 26), "Second Day of Christmas"),
        ("seitenbau", date(2026, 3, 7), "no office hours on Saturday"),
        ("seitenbau", date(2026, 3, 8), "no office hours on Sunday"),
        ("lunch", date(2026, 12, 31), "closed"),
        ("lunch", date(2026, 12, 30), None),
    ],
)
def test_describe_closed(name: str, day: date, expected: str | None) -> None:
    assert CALENDARS[name].describe_closed(day) == expected


@pytest.mark.parametrize(
    ("name", "instant", "expected"),
    [
        ("seitenbau", "2026-03-02T10:15+01:00", "2026-03-02T10:15+01:00"),
        ("seitenbau", "2026-03-02T09:15+00:00", "2026-03-02T10:15+01:00"),
        ("seitenbau", "2026-03-02T09:00+01:00", "2026-03-02T09:00+01:00"),
        ("seitenbau", "2026-03-02T17:00+01:00", "2026-03-03T09:00+01:00"),
        ("seitenbau", "2026-03-06T18:00+01:00", "2026-03-09T09:00+01:00"),
        ("seitenbau", "2026-06-03T17:00+02:00", "2026-06-05T09:00+02:00"),
        ("berlin", "2026-06-03T17:00+02:00", "2026-06-04T09:00+02:00"),
        ("seitenbau", "2026-12-31T17:00+01:00", "2027-01-04T09:00+01:00"),
        ("lunch", "2026-03-02T12:00+01:00", "2026-03-02T13:00+01:00"),
        ("late", "2026-03-07T00:30+01:00", "2026-03-07T00:30+01:00"),
        ("late", "2026-03-07T02:00+01:00", "2026-03-07T10:00+01:00"),
    ],
)
def test_next_open(name: str, instant: str, expected: str) -> None:
    result = CALENDARS[name].next_open(at(instant))
    assert same_instant(result, at(expected))


# -- clock changes ----------------------------------------------------------------

# (zone, day of the spring change, day of the autumn change) for 2026-2028.
# Sydney changes in the other half of the year: back in April, forward in October.
CLOCK_CHANGES = [
    ("Europe/Berlin", date(2026, 3, 29), date(2026, 10, 25)),
    ("Europe/Berlin", date(2027, 3, 28), date(2027, 10, 31)),
    ("Europe/Berlin", date(2028, 3, 26), date(2028, 10, 29)),
    ("America/New_York", date(2026, 3, 8), date(2026, 11, 1)),
    ("America/New_York", date(2027, 3, 14), date(2027, 11, 7)),
    ("America/New_York", date(2028, 3, 12), date(2028, 11, 5)),
    ("Australia/Sydney", date(2026, 10, 4), date(2026, 4, 5)),
    ("Australia/Sydney", date(2027, 10, 3), date(2027, 4, 4)),
    ("Australia/Sydney", date(2028, 10, 1), date(2028, 4, 2)),
]


def _local(zone: str, day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(zone))


@pytest.mark.parametrize(("zone", "spring", "autumn"), CLOCK_CHANGES)
def test_night_shift_is_shorter_in_spring_and_longer_in_autumn(
    zone: str, spring: date, autumn: date
) -> None:
    # Open 00:00-06:00 every night; every one of these zones changes its
    # clocks between 02:00 and 03:00, inside the shift.
    nights = BusinessCalendar(zone, every_day((time(0), time(6))))
    day = timedelta(days=1)
    hours = timedelta(hours=1)
    assert nights.elapsed(_local(zone, spring), _local(zone, spring + day)) == 5 * hours
    assert nights.elapsed(_local(zone, autumn), _local(zone, autumn + day)) == 7 * hours
    # The night before is an ordinary six-hour night.
    assert nights.elapsed(_local(zone, spring - day), _local(zone, spring)) == 6 * hours
    # Six hours from midnight: spring has only five, so 01:00 the next night;
    # autumn has seven, so 05:00 on the wall clock the same night.
    result = nights.add(_local(zone, spring), 6 * hours)
    assert same_instant(result, _local(zone, spring + day, 1))
    assert same_instant(nights.add(_local(zone, autumn), 6 * hours), _local(zone, autumn, 5))
    # All seven hours end at 06:00 sharp, not at 00:00 the next night.
    assert same_instant(nights.add(_local(zone, autumn), 7 * hours), _local(zone, autumn, 6))


@pytest.mark.parametrize(("zone", "spring", "autumn"), CLOCK_CHANGES)
def test_around_the_clock_days_have_23_and_25_hours(zone: str, spring: date, autumn: date) -> None:
    always = BusinessCalendar(zone, every_day((time(0), None)))
    day = timedelta(days=1)
    hours = timedelta(hours=1)
    assert always.elapsed(_local(zone, spring), _local(zone, spring + day)) == 23 * hours
    assert always.elapsed(_local(zone, autumn), _local(zone, autumn + day)) == 25 * hours
    # 24 real hours from midnight read 01:00 after spring, 23:00 the same day in autumn.
    assert same_instant(always.add(_local(zone, spring), 24 * hours), _local(zone, spring + day, 1))
    assert same_instant(always.add(_local(zone, autumn), 24 * hours), _local(zone, autumn, 23))


@pytest.mark.parametrize(
    ("zone", "hours", "day", "expected_length", "expected_opening"),
    [
        # Berlin skips 02:00-03:00 on 29 March 2026: a range starting at 02:30
        # opens when the clock jumps to 03:00 CEST.
        (
            "Europe/Berlin",
            (time(2, 30), time(4)),
            date(2026, 3, 29),
            timedelta(hours=1),
            "2026-03-29T03:00+02:00",
        ),
        # A range wholly inside the skipped hour does not exist that day.
        ("Europe/Berlin", (time(2), time(3)), date(2026, 3, 29), timedelta(0), None),
        # Berlin repeats 02:00-03:00 on 25 October 2026: the range opens at the
        # first 02:30 (CEST) and closes at 04:00 CET, 2.5 hours later.
        (
            "Europe/Berlin",
            (time(2, 30), time(4)),
            date(2026, 10, 25),
            timedelta(hours=2, minutes=30),
            "2026-10-25T02:30+02:00",
        ),
        (
            "Europe/Berlin",
            (time(2), time(3)),
            date(2026, 10, 25),
            timedelta(hours=2),
            "2026-10-25T02:00+02:00",
        ),
        # New York skips 02:00-03:00 on 8 March 2026 and repeats 01:00-02:00
        # on 1 November.
        (
            "America/New_York",
            (time(2, 15), time(3, 15)),
            date(2026, 3, 8),
            timedelta(minutes=15),
            "2026-03-08T03:00-04:00",
        ),
        (
            "America/New_York",
            (time(1), time(2)),
            date(2026, 11, 1),
            timedelta(hours=2),
            "2026-11-01T01:00-04:00",
        ),
        # Sydney repeats 02:00-03:00 on 5 April 2026 and skips it on 4 October.
        (
            "Australia/Sydney",
            (time(1), time(4)),
            date(2026, 4, 5),
            timedelta(hours=4),
            "2026-04-05T01:00+11:00",
        ),
        (
            "Australia/Sydney",
            (time(1), time(4)),
            date(2026, 10, 4),
            timedelta(hours=2),
            "2026-10-04T01:00+10:00",
        ),
    ],
)
def test_range_boundaries_in_the_changed_hour(
    zone: str,
    hours: tuple[time, time],
    day: date,
    expected_length: timedelta,
    expected_opening: str | None,
) -> None:
    calendar = BusinessCalendar(zone, {day.weekday(): [hours]})
    midnight = _local(zone, day)
    noon = _local(zone, day, 12)
    assert calendar.elapsed(midnight, noon) == expected_length
    assert calendar.is_business_day(day) is (expected_opening is not None)
    if expected_opening is None:
        assert calendar.describe_closed(day) == "no office hours (the clock change skips them)"
        # Closed that Sunday, open the next one for the full hour.
        assert same_instant(calendar.next_open(midnight), _local(zone, day + timedelta(days=7), 2))
    else:
        opening = calendar.next_open(midnight)
        assert same_instant(opening, at(expected_opening))
        # The whole length is available from the opening on.
        assert same_instant(
            calendar.add(opening, expected_length), calendar.add(midnight, expected_length)
        )
        assert calendar.elapsed(opening, calendar.add(opening, expected_length)) == expected_length


def test_result_in_the_repeated_hour_carries_the_right_offset() -> None:
    always = CALENDARS["always"]
    # 02:30 CEST, then one hour later 02:30 CET: same wall time, other offset.
    first = always.add(at("2026-10-25T02:00+02:00"), timedelta(minutes=30))
    second = always.add(first, timedelta(hours=1))
    assert first.isoformat() == "2026-10-25T02:30:00+02:00"
    assert second.isoformat() == "2026-10-25T02:30:00+01:00"
    assert second.fold == 1


# -- the benchmark ------------------------------------------------------------------


def test_benchmark_prints_json_last(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_main(["--seconds", "0.05", "--starts", "200"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    figures = json.loads(lines[-1])
    assert set(figures) == {"short_per_s", "long_per_s"}
    assert figures["short_per_s"] > 0
    assert figures["long_per_s"] > 0
