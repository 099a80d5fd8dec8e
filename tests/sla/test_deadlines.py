"""SLA deadlines and consumed time: clock and business targets, diagnosis, pauses.

The first table holds every `deadline` case of shared/scenarios/seitenbau.yaml
and webosa.yaml literally; the catalogs of those files are rebuilt here by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leitstand.sla.calendar import BusinessCalendar, HolidaySpec
from leitstand.sla.deadlines import Target, consumed, deadline

NINE_TO_FIVE = [(time(9), time(17))]
CALENDARS = {
    # seitenbau.yaml: seitenbau-office
    "seitenbau": BusinessCalendar(
        "Europe/Berlin",
        dict.fromkeys(range(5), NINE_TO_FIVE),
        HolidaySpec("DE", "BW"),
    ),
    # webosa.yaml: webosa-office
    "webosa": BusinessCalendar("Europe/Amsterdam", dict.fromkeys(range(5), NINE_TO_FIVE)),
}


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


# (policy, priority, target) -> (calendar, Target), as in the two catalogs.
POLICIES: dict[tuple[str, str, str], tuple[str, Target]] = {
    ("basis", "category-1", "response"): ("seitenbau", Target(hours(4), clock=False)),
    ("basis", "category-2", "response"): ("seitenbau", Target(hours(8), clock=False)),
    ("basis", "category-3", "response"): ("seitenbau", Target(hours(24), clock=False)),
    ("on-call", "category-1", "response"): ("seitenbau", Target(hours(1), clock=True)),
    ("webosa", "P1", "initial_response"): ("webosa", Target(hours(1), clock=True)),
    ("webosa", "P1", "diagnosis"): ("webosa", Target(hours(4), clock=True)),
    ("webosa", "P1", "restoration"): (
        "webosa",
        Target(hours(4), clock=True, from_diagnosis=True),
    ),
    ("webosa", "P2", "initial_response"): ("webosa", Target(hours(1), clock=False)),
    ("webosa", "P2", "diagnosis"): ("webosa", Target(hours(8), clock=False)),
    ("webosa", "P2", "restoration"): (
        "webosa",
        Target(hours(4), clock=False, from_diagnosis=True),
    ),
}


def at(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None
    return moment


def same_instant(result: datetime | None, expected: datetime) -> bool:
    """Same moment and the same printed offset (PEP 495 spoils plain == across zones)."""
    assert result is not None
    return result.astimezone(UTC) == expected.astimezone(UTC) and (
        result.utcoffset() == expected.utcoffset()
    )


def pauses(*pairs: tuple[str, str]) -> list[tuple[datetime, datetime]]:
    return [(at(begin), at(end)) for begin, end in pairs]


@dataclass(frozen=True)
class DeadlineCase:
    """One `deadline` case: ``rule`` is "policy/priority/target" as in the catalog."""

    rule: str
    start: str
    expect: str
    diagnosed_at: str | None = None
    paused: tuple[tuple[str, str], ...] = ()

    def arguments(self) -> tuple[Target, BusinessCalendar, datetime, dict[str, Any]]:
        policy, priority, target = self.rule.split("/")
        calendar_name, rule = POLICIES[policy, priority, target]
        options = {
            "diagnosed_at": None if self.diagnosed_at is None else at(self.diagnosed_at),
            "paused": pauses(*self.paused),
        }
        return rule, CALENDARS[calendar_name], at(self.start), options


def case(name: str, *args: Any, **kwargs: Any) -> Any:
    return pytest.param(DeadlineCase(*args, **kwargs), id=name)


SCENARIO_CASES = [
    # seitenbau.yaml
    case(
        "category 2 over Epiphany",
        "basis/category-2/response",
        start="2026-01-05T16:30:00+01:00",
        expect="2026-01-07T16:30:00+01:00",
    ),
    case(
        "category 1 over Corpus Christi",
        "basis/category-1/response",
        start="2026-06-03T15:00:00+02:00",
        expect="2026-06-05T11:00:00+02:00",
    ),
    case(
        "category 1 with on-call at night on a holiday",
        "on-call/category-1/response",
        start="2026-06-04T22:15:00+02:00",
        expect="2026-06-04T23:15:00+02:00",
    ),
    case(
        "category 3 over Christmas (24 December is a working day)",
        "basis/category-3/response",
        start="2026-12-23T10:00:00+01:00",
        expect="2026-12-29T10:00:00+01:00",
    ),
    # webosa.yaml
    case(
        "P1 detected on a Saturday night gets a response within a clock hour",
        "webosa/P1/initial_response",
        start="2026-11-21T03:10:00+01:00",
        expect="2026-11-21T04:10:00+01:00",
    ),
    case(
        "P1 diagnosis within 4 clock hours",
        "webosa/P1/diagnosis",
        start="2026-11-21T03:10:00+01:00",
        expect="2026-11-21T07:10:00+01:00",
    ),
    case(
        "P1 restoration counts from the diagnosis",
        "webosa/P1/restoration",
        start="2026-11-21T03:10:00+01:00",
        diagnosed_at="2026-11-21T05:00:00+01:00",
        expect="2026-11-21T09:00:00+01:00",
    ),
    case(
        "P1 across the spring clock change",
        "webosa/P1/initial_response",
        start="2026-03-29T01:30:00+01:00",
        expect="2026-03-29T03:30:00+02:00",
    ),
    case(
        "P2 reported Friday 16:30 is answered Monday 09:30",
        "webosa/P2/initial_response",
        start="2026-11-20T16:30:00+01:00",
        expect="2026-11-23T09:30:00+01:00",
    ),
    case(
        "P2 diagnosis within 8 business hours over a weekend",
        "webosa/P2/diagnosis",
        start="2026-11-20T16:30:00+01:00",
        expect="2026-11-23T16:30:00+01:00",
    ),
    case(
        "P2 reported on Sunday evening starts Monday 09:00",
        "webosa/P2/initial_response",
        start="2026-11-22T20:00:00+01:00",
        expect="2026-11-23T10:00:00+01:00",
    ),
    case(
        "P2 restoration 4 business hours after diagnosis",
        "webosa/P2/restoration",
        start="2026-11-23T10:00:00+01:00",
        diagnosed_at="2026-11-23T15:00:00+01:00",
        expect="2026-11-24T11:00:00+01:00",
    ),
    case(
        "P2 across the autumn clock change",
        "webosa/P2/diagnosis",
        start="2026-10-23T16:00:00+02:00",
        expect="2026-10-26T16:00:00+01:00",
    ),
    case(
        "P2 clock stops while waiting for the customer",
        "webosa/P2/diagnosis",
        start="2026-11-23T09:00:00+01:00",
        paused=(("2026-11-23T10:00:00+01:00", "2026-11-23T14:00:00+01:00"),),
        expect="2026-11-24T13:00:00+01:00",
    ),
]

MON = "2026-11-23"  # a Monday; Tuesday is the 24th
TUE = "2026-11-24"

MORE_CASES = [
    case(
        "unsorted overlapping pauses count once (paused 10:00-14:00)",
        "webosa/P2/diagnosis",
        start=f"{MON}T09:00+01:00",
        paused=(
            (f"{MON}T12:00+01:00", f"{MON}T14:00+01:00"),
            (f"{MON}T10:00+01:00", f"{MON}T12:30+01:00"),
        ),
        expect=f"{TUE}T13:00+01:00",
    ),
    case(
        "a pause nested in another changes nothing",
        "webosa/P2/diagnosis",
        start=f"{MON}T09:00+01:00",
        paused=(
            (f"{MON}T10:00+01:00", f"{MON}T14:00+01:00"),
            (f"{MON}T11:00+01:00", f"{MON}T12:00+01:00"),
        ),
        expect=f"{TUE}T13:00+01:00",
    ),
    # 7 h on Monday from 10:00, 1 h on Tuesday.
    case(
        "a pause begun before the start holds the clock until it ends",
        "webosa/P2/diagnosis",
        start=f"{MON}T09:00+01:00",
        paused=(("2026-11-20T15:00+01:00", f"{MON}T10:00+01:00"),),
        expect=f"{TUE}T10:00+01:00",
    ),
    case(
        "pauses before the start, after the deadline, and empty ones change nothing",
        "webosa/P2/diagnosis",
        start=f"{MON}T09:00+01:00",
        paused=(
            ("2026-11-20T15:00+01:00", "2026-11-20T16:00+01:00"),
            (f"{TUE}T09:00+01:00", f"{TUE}T12:00+01:00"),
            (f"{MON}T10:00+01:00", f"{MON}T10:00+01:00"),
        ),
        expect=f"{MON}T17:00+01:00",
    ),
    case(
        "used up at 17:00 exactly as the pause begins: due at 17:00",
        "webosa/P2/diagnosis",
        start=f"{MON}T09:00+01:00",
        paused=((f"{MON}T17:00+01:00", f"{TUE}T12:00+01:00"),),
        expect=f"{MON}T17:00+01:00",
    ),
    # 7 h used by 16:00, paused until Tuesday 10:00, 1 h left.
    case(
        "pause over night",
        "webosa/P2/diagnosis",
        start=f"{MON}T09:00+01:00",
        paused=((f"{MON}T16:00+01:00", f"{TUE}T10:00+01:00"),),
        expect=f"{TUE}T11:00+01:00",
    ),
    case(
        "waiting over the weekend costs no business time",
        "webosa/P2/diagnosis",
        start="2026-11-20T16:30+01:00",
        paused=(("2026-11-21T10:00+01:00", "2026-11-22T20:00+01:00"),),
        expect=f"{MON}T16:30+01:00",
    ),
    # 20 min, paused 30 min, 40 min.
    case(
        "clock targets stop too",
        "webosa/P1/initial_response",
        start="2026-11-21T03:10+01:00",
        paused=(("2026-11-21T03:30+01:00", "2026-11-21T04:00+01:00"),),
        expect="2026-11-21T04:40+01:00",
    ),
    # Effective start 03:20; 1 h 40 min until 05:00; paused an hour; 2 h 20 min more.
    case(
        "clock target with a pause over the start and one later",
        "webosa/P1/diagnosis",
        start="2026-11-21T03:10+01:00",
        paused=(
            ("2026-11-21T03:00+01:00", "2026-11-21T03:20+01:00"),
            ("2026-11-21T05:00+01:00", "2026-11-21T06:00+01:00"),
        ),
        expect="2026-11-21T08:20+01:00",
    ),
    # 15 min, a pause of 30 real minutes (01:45 CET to 03:15 CEST), 45 min more.
    case(
        "clock target paused across the spring change",
        "webosa/P1/initial_response",
        start="2026-03-29T01:30+01:00",
        paused=(("2026-03-29T01:45+01:00", "2026-03-29T03:15+02:00"),),
        expect="2026-03-29T04:00+02:00",
    ),
    case(
        "one clock hour from 02:30 CEST is 02:30 CET",
        "on-call/category-1/response",
        start="2026-10-25T02:30+02:00",
        expect="2026-10-25T02:30+01:00",
    ),
    # Only 15:00-16:00 is paused: 1 h on Monday, 3 h on Tuesday.
    case(
        "a pause before the diagnosis counts only where it overlaps the target",
        "webosa/P2/restoration",
        start=f"{MON}T10:00+01:00",
        diagnosed_at=f"{MON}T15:00+01:00",
        paused=((f"{MON}T14:00+01:00", f"{MON}T16:00+01:00"),),
        expect=f"{TUE}T12:00+01:00",
    ),
    case(
        "diagnosed_at is irrelevant to a target counted from the start",
        "webosa/P1/diagnosis",
        start="2026-11-21T03:10+01:00",
        diagnosed_at="2026-11-21T05:00+01:00",
        expect="2026-11-21T07:10+01:00",
    ),
    case(
        "given in UTC, answered in the calendar's zone",
        "webosa/P2/initial_response",
        start="2026-11-20T15:30+00:00",
        expect=f"{MON}T09:30+01:00",
    ),
]


@pytest.mark.parametrize("case", SCENARIO_CASES + MORE_CASES)
def test_deadline(case: DeadlineCase) -> None:
    rule, calendar, start, options = case.arguments()
    result = deadline(rule, calendar, start, **options)
    assert same_instant(result, at(case.expect))
    assert result is not None
    assert result.tzinfo == calendar.timezone
    # Whatever the deadline, the whole target is used up exactly then.
    assert consumed(rule, calendar, start, result, **options) == rule.within


@pytest.mark.parametrize("target", ["restoration"])
@pytest.mark.parametrize("priority", ["P1", "P2"])
def test_no_deadline_before_the_diagnosis(priority: str, target: str) -> None:
    calendar_name, rule = POLICIES["webosa", priority, target]
    start = at("2026-11-23T10:00+01:00")
    calendar = CALENDARS[calendar_name]
    assert deadline(rule, calendar, start) is None
    assert (
        deadline(rule, calendar, start, paused=pauses((f"{MON}T11:00+01:00", f"{MON}T12:00+01:00")))
        is None
    )
    assert consumed(rule, calendar, start, at(f"{TUE}T10:00+01:00")) is None


def test_zero_target_is_due_at_its_origin() -> None:
    calendar = CALENDARS["webosa"]
    saturday = at("2026-11-21T03:10+00:00")
    for clock in (True, False):
        result = deadline(Target(timedelta(0), clock=clock), calendar, saturday)
        assert same_instant(result, at("2026-11-21T04:10+01:00"))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: deadline(
                Target(hours(-1), clock=True), CALENDARS["webosa"], at(f"{MON}T10:00+01:00")
            ),
            "negative",
        ),
        (
            lambda: deadline(
                Target(hours(1), clock=False),
                CALENDARS["webosa"],
                at(f"{MON}T10:00+01:00"),
                paused=pauses((f"{MON}T12:00+01:00", f"{MON}T11:00+01:00")),
            ),
            "ends before it starts",
        ),
        (
            lambda: deadline(
                Target(hours(1), clock=True), CALENDARS["webosa"], datetime(2026, 11, 23, 10)
            ),
            "start must be a timezone-aware",
        ),
        (
            lambda: deadline(
                Target(hours(1), clock=True, from_diagnosis=True),
                CALENDARS["webosa"],
                at(f"{MON}T10:00+01:00"),
                diagnosed_at=datetime(2026, 11, 23, 11),
            ),
            "diagnosed_at must be",
        ),
        (
            lambda: consumed(
                Target(hours(1), clock=True),
                CALENDARS["webosa"],
                at(f"{MON}T10:00+01:00"),
                datetime(2026, 11, 23, 11),
            ),
            "at must be",
        ),
        (
            lambda: deadline(
                Target(hours(1), clock=True),
                CALENDARS["webosa"],
                at(f"{MON}T10:00+01:00"),
                paused=[(datetime(2026, 11, 23, 11), at(f"{MON}T12:00+01:00"))],
            ),
            "pause's start must be",
        ),
    ],
)
def test_bad_input_is_refused(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2026-11-22T12:00+01:00", timedelta(0)),  # before the start
        (f"{MON}T09:00+01:00", timedelta(0)),
        (f"{MON}T09:30+01:00", timedelta(minutes=30)),
        (f"{MON}T12:00+01:00", hours(1)),  # waiting since 10:00
        (f"{MON}T15:00+01:00", hours(2)),
        (f"{MON}T20:00+01:00", hours(4)),
        (f"{TUE}T13:00+01:00", hours(8)),  # the deadline
        # Past the deadline the overrun shows: not capped at the target.
        (f"{TUE}T14:00+01:00", hours(9)),
    ],
)
def test_consumed_while_waiting_for_the_customer(when: str, expected: timedelta) -> None:
    rule = POLICIES["webosa", "P2", "diagnosis"][1]
    start = at(f"{MON}T09:00+01:00")
    paused = pauses((f"{MON}T10:00+01:00", f"{MON}T14:00+01:00"))
    assert consumed(rule, CALENDARS["webosa"], start, at(when), paused=paused) == expected


@pytest.mark.parametrize(
    ("rule", "start", "diagnosed_at", "when", "expected"),
    [
        ("webosa/P2/diagnosis", f"{MON}T09:00+01:00", None, f"{MON}T12:00+01:00", hours(3)),
        # Friday 16:30 to Monday 09:30: half an hour each side of the weekend.
        ("webosa/P2/diagnosis", "2026-11-20T16:30+01:00", None, f"{MON}T09:30+01:00", hours(1)),
        # Clock time: 01:30 CET to 03:30 CEST is one hour, 01:30 CEST to 03:30 CET three.
        (
            "webosa/P1/initial_response",
            "2026-03-29T01:30+01:00",
            None,
            "2026-03-29T03:30+02:00",
            hours(1),
        ),
        ("webosa/P1/diagnosis", "2026-10-25T01:30+02:00", None, "2026-10-25T03:30+01:00", hours(3)),
        # Counted from the diagnosis: nothing before it.
        (
            "webosa/P2/restoration",
            f"{MON}T10:00+01:00",
            f"{MON}T15:00+01:00",
            f"{MON}T14:00+01:00",
            timedelta(0),
        ),
        (
            "webosa/P2/restoration",
            f"{MON}T10:00+01:00",
            f"{MON}T15:00+01:00",
            f"{TUE}T11:00+01:00",
            hours(4),
        ),
        (
            "webosa/P1/restoration",
            f"{MON}T10:00+01:00",
            f"{MON}T15:00+01:00",
            f"{TUE}T11:00+01:00",
            hours(20),
        ),
    ],
)
def test_consumed(
    rule: str, start: str, diagnosed_at: str | None, when: str, expected: timedelta
) -> None:
    calendar_name, target = POLICIES[tuple(rule.split("/"))]  # type: ignore[index]
    diagnosis = None if diagnosed_at is None else at(diagnosed_at)
    used = consumed(target, CALENDARS[calendar_name], at(start), at(when), diagnosed_at=diagnosis)
    assert used == expected


# -- properties ---------------------------------------------------------------

FIRST = datetime(2026, 1, 1, tzinfo=UTC)
MINUTES_IN_THREE_YEARS = 3 * 366 * 1440


@st.composite
def incidents(draw: st.DrawFn) -> tuple[datetime, list[tuple[datetime, datetime]]]:
    """A start and up to four pauses near it, overlapping and unsorted at will."""
    start = FIRST + timedelta(minutes=draw(st.integers(0, MINUTES_IN_THREE_YEARS)))
    paused = []
    for _ in range(draw(st.integers(0, 4))):
        begin = start + timedelta(minutes=draw(st.integers(-3 * 1440, 10 * 1440)))
        paused.append((begin, begin + timedelta(minutes=draw(st.integers(0, 3 * 1440)))))
    return start, paused


targets = st.builds(
    Target,
    within=st.integers(0, 100 * 60).map(lambda m: timedelta(minutes=m)),
    clock=st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(incident=incidents(), target=targets, name=st.sampled_from(sorted(CALENDARS)))
def test_consumed_reaches_the_target_exactly_at_the_deadline(
    incident: tuple[datetime, list[tuple[datetime, datetime]]], target: Target, name: str
) -> None:
    start, paused = incident
    calendar = CALENDARS[name]
    due = deadline(target, calendar, start, paused=paused)
    assert due is not None
    assert due.astimezone(UTC) >= start
    assert consumed(target, calendar, start, due, paused=paused) == target.within
    if target.within:
        # Earliest: a microsecond earlier the target is not yet used up.
        just_before = due.astimezone(UTC) - timedelta(microseconds=1)
        left = consumed(target, calendar, start, just_before, paused=paused)
        assert left == target.within - timedelta(microseconds=1)


@settings(max_examples=200, deadline=None)
@given(
    incident=incidents(),
    minutes=st.tuples(st.integers(0, 6000), st.integers(0, 6000)),
    clock=st.booleans(),
)
def test_a_longer_target_is_never_due_earlier(
    incident: tuple[datetime, list[tuple[datetime, datetime]]],
    minutes: tuple[int, int],
    clock: bool,
) -> None:
    start, paused = incident
    shorter, longer = (Target(timedelta(minutes=m), clock=clock) for m in sorted(minutes))
    calendar = CALENDARS["seitenbau"]
    first = deadline(shorter, calendar, start, paused=paused)
    second = deadline(longer, calendar, start, paused=paused)
    assert first is not None
    assert second is not None
    assert first.astimezone(UTC) <= second.astimezone(UTC)
