"""Properties of BusinessCalendar, checked by hypothesis across 2026-2028.

Zones on both hemispheres and without daylight saving time; start instants
drawn uniformly and close to the clock changes. Some properties compare with
a brute-force reference that looks at the local wall clock minute by minute,
so they do not share the calendar's interval arithmetic. The office hours
below only use whole-hour boundaries; none lies strictly inside a repeated
autumn hour, where "the wall clock reads 02:30" would name two instants.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leitstand.sla.calendar import BusinessCalendar, HolidaySpec

Hours = Mapping[int, Sequence[tuple[time, time | None]]]

ZONES: dict[str, HolidaySpec | None] = {
    "Europe/Berlin": HolidaySpec("DE", "BW"),
    "America/New_York": HolidaySpec("US", "NY"),
    "Australia/Sydney": HolidaySpec("AU", "NSW"),
    "Asia/Kolkata": HolidaySpec("IN"),
    "UTC": None,
}

WEEKDAYS = range(5)
LAYOUTS: dict[str, Hours] = {
    "office": {day: [(time(9), time(17))] for day in WEEKDAYS},
    "lunch": {
        **{day: [(time(8), time(12)), (time(13), time(17))] for day in WEEKDAYS},
        5: [(time(10), time(14))],
    },
    # Nights across midnight; the clock changes fall inside them.
    "nights": {day: [(time(0), time(6)), (time(22), None)] for day in range(7)},
    # Weekends around the clock, weekdays only in the small hours.
    "weekends": {
        **{day: [(time(1), time(4))] for day in WEEKDAYS},
        5: [(time(0), None)],
        6: [(time(0), None)],
    },
    # All three zones with daylight saving time change on a Sunday morning.
    "sunday-early": {6: [(time(1), time(4))]},
}
CLOSED = (date(2026, 12, 31), date(2027, 7, 15), date(2028, 2, 29))

# Long targets on sparse layouts reach the 2040s, beyond the years for which
# the holidays package knows India's lunar holidays; it warns, rightly, but
# that is not what these tests are about.
pytestmark = pytest.mark.filterwarnings("ignore:Requested Holidays are available only")

FIRST = datetime(2026, 1, 1, tzinfo=UTC)
LAST = datetime(2028, 12, 31, tzinfo=UTC)


@functools.cache
def calendar(zone: str, layout: str) -> BusinessCalendar:
    """Shared between examples, so the lazily built years grow in random order."""
    return BusinessCalendar(zone, LAYOUTS[layout], ZONES[zone], closed=CLOSED)


@functools.cache
def public_holidays(zone: str) -> holidays.HolidayBase | None:
    spec = ZONES[zone]
    if spec is None:
        return None
    return holidays.country_holidays(spec.country, subdiv=spec.subdivision)


def reference_open(zone: str, layout: str, instant: datetime) -> bool:
    """Open by reading the wall clock, without the calendar's interval tables."""
    local = instant.astimezone(ZoneInfo(zone))
    day = local.date()
    closed_days = public_holidays(zone)
    if day in CLOSED or (closed_days is not None and day in closed_days):
        return False
    of_day = timedelta(
        hours=local.hour, minutes=local.minute, seconds=local.second, microseconds=local.microsecond
    )
    for start, end in LAYOUTS[layout].get(day.weekday(), ()):
        opens = timedelta(hours=start.hour, minutes=start.minute)
        closes = timedelta(days=1) if end is None else timedelta(hours=end.hour, minutes=end.minute)
        if opens <= of_day < closes:
            return True
    return False


@functools.cache
def transitions(zone: str) -> tuple[datetime, ...]:
    """The instants in 2026-2028 at which the zone's UTC offset changes (to the hour)."""
    tz = ZoneInfo(zone)
    found = []
    moment = FIRST
    offset = moment.astimezone(tz).utcoffset()
    while moment < LAST:
        moment += timedelta(hours=1)
        current = moment.astimezone(tz).utcoffset()
        if current != offset:
            found.append(moment)
            offset = current
    return tuple(found)


def test_the_reference_sees_the_clock_changes() -> None:
    # Guards the strategy below: without transitions it would test nothing near them.
    assert len(transitions("Europe/Berlin")) == 6
    assert transitions("Australia/Sydney")[0] == datetime(2026, 4, 4, 16, tzinfo=UTC)
    assert transitions("Asia/Kolkata") == ()


zones = st.sampled_from(sorted(ZONES))
layouts = st.sampled_from(sorted(LAYOUTS))


@st.composite
def instants(draw: st.DrawFn, zone: str, *, whole_minutes: bool = False) -> datetime:
    """An instant in 2026-2028, often within two days of a clock change."""
    changes = transitions(zone)
    near_a_change = draw(st.booleans())
    if changes and near_a_change:
        centre = draw(st.sampled_from(changes))
        moment = centre + timedelta(minutes=draw(st.integers(-2 * 1440, 2 * 1440)))
    else:
        span = int((LAST - FIRST).total_seconds()) // 60
        moment = FIRST + timedelta(minutes=draw(st.integers(0, span)))
    if not whole_minutes:
        moment += timedelta(microseconds=draw(st.integers(0, 60 * 10**6 - 1)))
    # Hand the calendar instants in its own zone, in UTC, or in a fixed offset.
    shown = draw(st.sampled_from([ZoneInfo(zone), UTC, ZoneInfo("Asia/Tokyo")]))
    return moment.astimezone(shown)


durations = st.one_of(
    st.integers(0, 10 * 3600).map(lambda s: timedelta(seconds=s)),
    st.integers(0, 200 * 60).map(lambda m: timedelta(minutes=m)),
    st.integers(0, 3000).map(lambda h: timedelta(hours=h)),
    st.integers(0, 10**10).map(lambda us: timedelta(microseconds=us)),
)
ONE_US = timedelta(microseconds=1)
FAST = settings(max_examples=200, deadline=None)


def utc(moment: datetime) -> datetime:
    # Compare in UTC: PEP 495 makes a datetime in a repeated hour unequal to
    # every datetime of another zone, even at the same moment.
    return moment.astimezone(UTC)


@FAST
@given(data=st.data(), zone=zones, layout=layouts, duration=durations)
def test_add_then_elapsed_gives_the_duration_back(
    data: st.DataObject, zone: str, layout: str, duration: timedelta
) -> None:
    cal = calendar(zone, layout)
    start = data.draw(instants(zone))
    end = cal.add(start, duration)
    assert cal.elapsed(start, end) == duration
    assert end.tzinfo == cal.timezone
    assert utc(end) >= utc(start)


@FAST
@given(data=st.data(), zone=zones, layout=layouts, duration=durations)
def test_add_lands_at_the_end_of_open_time(
    data: st.DataObject, zone: str, layout: str, duration: timedelta
) -> None:
    """For d > 0 the result lies in (range_start, range_end] and is the earliest such instant."""
    cal = calendar(zone, layout)
    start = data.draw(instants(zone))
    if duration <= timedelta(0):
        assert utc(cal.add(start, duration)) == utc(start)
        return
    end = cal.add(start, duration)
    # Arithmetic in UTC: adding to a ZoneInfo datetime moves the wall clock,
    # which is off by an hour next to a repeated hour.
    just_before = utc(end) - ONE_US
    assert utc(end) > utc(start)
    assert cal.is_open(just_before)
    assert reference_open(zone, layout, just_before)
    # The last microsecond counted is the one just before the result.
    assert cal.elapsed(start, just_before) == duration - ONE_US


@FAST
@given(data=st.data(), zone=zones, layout=layouts, durations=st.tuples(durations, durations))
def test_add_is_monotonic(
    data: st.DataObject, zone: str, layout: str, durations: tuple[timedelta, timedelta]
) -> None:
    cal = calendar(zone, layout)
    start = data.draw(instants(zone))
    shorter, longer = sorted(durations)
    assert utc(cal.add(start, shorter)) <= utc(cal.add(start, longer))
    if shorter < longer:
        assert utc(cal.add(start, shorter)) < utc(cal.add(start, longer))


@FAST
@given(data=st.data(), zone=zones, layout=layouts)
def test_elapsed_is_additive(data: st.DataObject, zone: str, layout: str) -> None:
    cal = calendar(zone, layout)
    a, b, c = sorted((data.draw(instants(zone)) for _ in range(3)), key=utc)
    assert cal.elapsed(a, b) + cal.elapsed(b, c) == cal.elapsed(a, c)
    assert cal.elapsed(c, a) == timedelta(0)


@FAST
@given(data=st.data(), zone=zones, layout=layouts, minutes=st.integers(0, 2 * 1440))
def test_elapsed_matches_the_wall_clock_minute_by_minute(
    data: st.DataObject, zone: str, layout: str, minutes: int
) -> None:
    cal = calendar(zone, layout)
    start = data.draw(instants(zone, whole_minutes=True))
    step = timedelta(minutes=1)
    base = utc(start)
    open_minutes = sum(reference_open(zone, layout, base + i * step) for i in range(minutes))
    assert cal.elapsed(start, base + minutes * step) == open_minutes * step


@FAST
@given(data=st.data(), zone=zones, layout=layouts)
def test_is_open_matches_the_wall_clock(data: st.DataObject, zone: str, layout: str) -> None:
    cal = calendar(zone, layout)
    instant = data.draw(instants(zone))
    assert cal.is_open(instant) is reference_open(zone, layout, instant)


@FAST
@given(data=st.data(), zone=zones, layout=layouts)
def test_next_open_is_the_next_opening(data: st.DataObject, zone: str, layout: str) -> None:
    cal = calendar(zone, layout)
    instant = data.draw(instants(zone))
    opening = cal.next_open(instant)
    assert cal.is_open(opening)
    assert reference_open(zone, layout, opening)
    assert cal.elapsed(instant, opening) == timedelta(0)
    if cal.is_open(instant):
        assert utc(opening) == utc(instant)
    else:
        assert utc(opening) > utc(instant)
        assert not cal.is_open(utc(opening) - ONE_US)


@FAST
@given(data=st.data(), zone=zones, layout=layouts, duration=durations)
def test_a_fresh_calendar_answers_like_a_warm_one(
    data: st.DataObject, zone: str, layout: str, duration: timedelta
) -> None:
    """The lazily built years give the same answers whatever order they are built in."""
    warm = calendar(zone, layout)
    fresh = BusinessCalendar(zone, LAYOUTS[layout], ZONES[zone], closed=CLOSED)
    late, early = data.draw(instants(zone)), data.draw(instants(zone))
    # The fresh calendar first builds the later year, then extends backwards.
    assert utc(fresh.add(late, duration)) == utc(warm.add(late, duration))
    assert fresh.elapsed(early, late) == warm.elapsed(early, late)
    assert utc(fresh.add(early, duration)) == utc(warm.add(early, duration))


@pytest.mark.parametrize("zone", sorted(ZONES))
def test_business_days_agree_with_the_reference(zone: str) -> None:
    cal = calendar(zone, "lunch")
    day = date(2026, 1, 1)
    while day.year < 2029:
        noon = datetime(day.year, day.month, day.day, 10, tzinfo=ZoneInfo(zone))
        assert cal.is_business_day(day) is reference_open(zone, "lunch", noon), day
        day += timedelta(days=1)
