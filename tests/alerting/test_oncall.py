"""Who is on call: weekly rotations, office vs out of hours, holidays, overrides; escalation timing."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leitstand.alerting.oncall import (
    OnCall,
    Override,
    Rotation,
    Schedule,
    Shift,
    escalation_due,
    next_escalation,
    on_call,
    shift_at,
)
from leitstand.sla.calendar import BusinessCalendar, HolidaySpec

BERLIN = ZoneInfo("Europe/Berlin")
# Seed 004: "Mo. – Fr. 9 - 17 Uhr, außer an Feiertagen in Baden-Württemberg".
OFFICE = BusinessCalendar(
    "Europe/Berlin", {d: [(time(9), time(17))] for d in range(5)}, holidays=HolidaySpec("DE", "BW")
)
HANDOVER = datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)  # a Monday, 09:00
DAY_TEAM = Rotation((1,), HANDOVER, BERLIN)
NIGHT_TEAM = Rotation((2, 3, 4), HANDOVER, BERLIN)
SCHEDULE = Schedule({Shift.OFFICE: DAY_TEAM, Shift.OUT_OF_HOURS: NIGHT_TEAM}, calendar=OFFICE)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (berlin(2026, 11, 16, 9, 0), 2),  # the first handover
        (berlin(2026, 11, 23, 8, 59), 2),  # a week later, a minute before handover
        (berlin(2026, 11, 23, 9, 0), 3),
        (berlin(2026, 11, 30, 9, 0), 4),
        (berlin(2026, 12, 7, 9, 0), 2),  # round again
        (berlin(2026, 11, 16, 8, 59), 4),  # before the start: the turn before
        (berlin(2026, 11, 2, 9, 0), 3),
    ],
)
def test_weekly_rotation(instant: datetime, expected: int) -> None:
    assert NIGHT_TEAM.at(instant) == expected


def test_handover_keeps_local_time_across_the_clock_change() -> None:
    # 2027-03-28 the clocks go forward; the handover the next Monday is still 09:00.
    rotation = Rotation((1, 2), berlin(2027, 3, 22, 9, 0), BERLIN)
    assert rotation.at(berlin(2027, 3, 29, 8, 59)) == 1
    assert rotation.at(berlin(2027, 3, 29, 9, 0)) == 2


@given(st.integers(-200, 200), st.sampled_from([1, 2, 3, 5]))
def test_every_week_hands_over_at_nine_local(week: int, size: int) -> None:
    rotation = Rotation(tuple(range(size)), HANDOVER, BERLIN)
    monday = (HANDOVER + timedelta(weeks=week)).astimezone(BERLIN).date()
    nine = datetime.combine(monday, time(9), BERLIN)
    before = rotation.at(nine - timedelta(minutes=1))
    after = rotation.at(nine)
    assert after == week % size
    assert before == (week - 1) % size


def test_empty_rotation_has_nobody() -> None:
    assert Rotation((), HANDOVER).at(HANDOVER) is None


def test_rotation_length_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Rotation((1,), HANDOVER, BERLIN, timedelta(0))


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        NIGHT_TEAM.at(datetime(2026, 11, 16, 9, 0))


@pytest.mark.parametrize(
    ("instant", "shift", "user"),
    [
        (berlin(2026, 11, 18, 10, 0), Shift.OFFICE, 1),  # Wednesday morning
        (berlin(2026, 11, 18, 16, 59), Shift.OFFICE, 1),
        (berlin(2026, 11, 18, 17, 0), Shift.OUT_OF_HOURS, 2),  # office closed
        (berlin(2026, 11, 18, 4, 0), Shift.OUT_OF_HOURS, 2),  # night
        (berlin(2026, 11, 21, 12, 0), Shift.OUT_OF_HOURS, 2),  # Saturday
        (berlin(2026, 12, 25, 11, 0), Shift.OUT_OF_HOURS, 4),  # Christmas, a Friday: turn 5
        (berlin(2027, 5, 27, 11, 0), Shift.OUT_OF_HOURS, 2),  # Corpus Christi (BW): turn 27
    ],
)
def test_office_hours_and_holidays_choose_the_rotation(
    instant: datetime, shift: Shift, user: int
) -> None:
    assert on_call(SCHEDULE, instant) == OnCall(user, shift)


def test_corpus_christi_is_a_working_day_in_berlin() -> None:
    berlin_office = BusinessCalendar(
        "Europe/Berlin", {d: [(time(9), time(17))] for d in range(5)}, HolidaySpec("DE", "BE")
    )
    assert shift_at(berlin_office, berlin(2027, 5, 27, 11, 0)) == Shift.OFFICE


def test_without_a_calendar_the_office_rotation_covers_the_week() -> None:
    schedule = Schedule({Shift.OFFICE: NIGHT_TEAM})
    assert on_call(schedule, berlin(2026, 11, 21, 3, 0)) == OnCall(2, Shift.OFFICE)


def test_no_out_of_hours_rotation_means_nobody_at_night() -> None:
    schedule = Schedule({Shift.OFFICE: DAY_TEAM}, calendar=OFFICE)
    assert on_call(schedule, berlin(2026, 11, 18, 4, 0)) == OnCall(None, Shift.OUT_OF_HOURS)


HOLIDAY_COVER = Override(9, berlin(2026, 11, 20, 17, 0), berlin(2026, 11, 23, 9, 0))
SWAP = Override(8, berlin(2026, 11, 21, 20, 0), berlin(2026, 11, 22, 8, 0))
DAY_ONLY = Override(7, berlin(2026, 11, 16, 0, 0), berlin(2026, 11, 21, 0, 0), Shift.OFFICE)


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (berlin(2026, 11, 20, 16, 0), OnCall(7, Shift.OFFICE, override=True)),
        (berlin(2026, 11, 20, 17, 0), OnCall(9, Shift.OUT_OF_HOURS, override=True)),
        (berlin(2026, 11, 21, 19, 59), OnCall(9, Shift.OUT_OF_HOURS, override=True)),
        (berlin(2026, 11, 21, 20, 0), OnCall(8, Shift.OUT_OF_HOURS, override=True)),  # swap inside
        (berlin(2026, 11, 22, 8, 0), OnCall(9, Shift.OUT_OF_HOURS, override=True)),  # swap ended
        (berlin(2026, 11, 23, 9, 0), OnCall(1, Shift.OFFICE)),  # all over: the rotation again
        (berlin(2026, 11, 19, 3, 0), OnCall(2, Shift.OUT_OF_HOURS)),  # day-only cover, night
    ],
)
def test_overrides_win_while_they_last(instant: datetime, expected: OnCall) -> None:
    schedule = Schedule(SCHEDULE.rotations, [HOLIDAY_COVER, SWAP, DAY_ONLY], OFFICE)
    assert on_call(schedule, instant) == expected


# No deadline: the calendar builds each year's table on first use, which a
# random year across a century hits often and a busy machine makes slow.
@settings(deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_someone_is_always_on_call_with_two_staffed_rotations(naive: datetime) -> None:
    answer = on_call(SCHEDULE, naive.replace(tzinfo=UTC))
    assert answer.user in {1, 2, 3, 4}
    assert (answer.user == 1) == (answer.shift == Shift.OFFICE)


# -- escalation timing ----------------------------------------------------------------

OPENED = datetime(2026, 11, 18, 3, 0, tzinfo=UTC)
DELAYS = [timedelta(0), timedelta(minutes=15), timedelta(minutes=45)]


@pytest.mark.parametrize(
    ("level", "minutes", "due"),
    [
        (0, 0, 1),  # level 1 at once
        (1, 14, 1),
        (1, 15, 2),  # level 2 after 15 minutes
        (2, 44, 2),
        (2, 45, 3),
        (3, 600, 3),  # nothing after the last level
        (0, 60, 3),  # a worker that was down catches up on every level
        (3, 0, 3),  # never backwards
    ],
)
def test_escalation_due(level: int, minutes: int, due: int) -> None:
    assert escalation_due(OPENED, DELAYS, level, OPENED + timedelta(minutes=minutes)) == due


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (0, OPENED),
        (1, OPENED + timedelta(minutes=15)),
        (2, OPENED + timedelta(minutes=45)),
        (3, None),
    ],
)
def test_next_escalation(level: int, expected: datetime | None) -> None:
    assert next_escalation(OPENED, DELAYS, level) == expected
