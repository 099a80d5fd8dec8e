"""Who of the provider's staff is on call at an instant: pure rules, no database.

Seed 000 IV: "In the event of a system failure, we will address it during our
business hours. Outside these hours, you can conveniently contact the on-call
service"; seed 004 sells "Erreichbarkeit außerhalb der üblichen Bürozeiten"
as the Rufbereitschaft add-on. A schedule therefore has two rotations, one
for office hours and one for out of hours, told apart by a
:class:`~leitstand.sla.calendar.BusinessCalendar` (public holidays count as
out of hours). Each rotation hands over every ``length`` (a week by default)
at the same *local* wall-clock time, summer or winter. Overrides (holiday
cover, a swap) win over the rotation while they last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from leitstand.sla.calendar import BusinessCalendar

WEEK = timedelta(weeks=1)


class Shift(StrEnum):
    """Which rotation covers an instant."""

    OFFICE = "office"
    OUT_OF_HOURS = "out_of_hours"


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    if instant.tzinfo is None:
        raise ValueError(f"expected a timezone-aware datetime, got {instant!r}")
    return instant.astimezone(zone).replace(tzinfo=None)


@dataclass(frozen=True)
class Rotation:
    """Members (user ids) in turn, handing over every ``length`` from ``start``.

    The turn is counted in local wall-clock time of ``zone``: a handover set
    for Monday 09:00 stays at 09:00 across the clock changes instead of
    drifting to 08:00 or 10:00 for half the year.
    """

    members: tuple[int, ...]
    start: datetime
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Berlin"))
    length: timedelta = WEEK

    def __post_init__(self) -> None:
        if self.length <= timedelta(0):
            raise ValueError("a rotation's length must be positive")

    def turn(self, instant: datetime) -> int:
        """How many handovers lie between ``start`` and ``instant`` (negative before)."""
        return (_wall(instant, self.zone) - _wall(self.start, self.zone)) // self.length

    def at(self, instant: datetime) -> int | None:
        """The member on duty at ``instant``, None for an empty rotation."""
        if not self.members:
            return None
        return self.members[self.turn(instant) % len(self.members)]


@dataclass(frozen=True)
class Override:
    """``user`` covers ``[starts, ends)``; ``shift`` None covers both shifts."""

    user: int
    starts: datetime
    ends: datetime
    shift: Shift | None = None

    def covers(self, instant: datetime, shift: Shift) -> bool:
        return self.starts <= instant < self.ends and self.shift in (None, shift)


@dataclass(frozen=True)
class Schedule:
    """A rotation per shift, overrides, and the calendar telling the shifts apart.

    Without a calendar there is no distinction: the office rotation covers
    the whole week (a 24/7 team with one rotation).
    """

    rotations: Mapping[Shift, Rotation]
    overrides: Sequence[Override] = ()
    calendar: BusinessCalendar | None = None


@dataclass(frozen=True)
class OnCall:
    """The answer: who (None if nobody), in which shift, and whether by override."""

    user: int | None
    shift: Shift
    override: bool = False


def shift_at(calendar: BusinessCalendar | None, instant: datetime) -> Shift:
    """Office hours or out of hours at ``instant``."""
    if calendar is None or calendar.is_open(instant):
        return Shift.OFFICE
    return Shift.OUT_OF_HOURS


def on_call(schedule: Schedule, instant: datetime) -> OnCall:
    """Who is on call at ``instant``.

    Of several overrides covering the instant, the one that started last
    wins: a short swap inside a week of holiday cover is the more specific
    plan.
    """
    shift = shift_at(schedule.calendar, instant)
    covering = [o for o in schedule.overrides if o.covers(instant, shift)]
    if covering:
        chosen = max(covering, key=lambda o: o.starts)
        return OnCall(chosen.user, shift, override=True)
    rotation = schedule.rotations.get(shift)
    return OnCall(rotation.at(instant) if rotation else None, shift)


def escalation_due(
    opened_at: datetime, delays: Sequence[timedelta], level: int, now: datetime
) -> int:
    """The highest escalation level due at ``now`` for an unacknowledged alert.

    ``delays[i]`` is how long after opening level ``i + 1`` is told (level 1
    usually at once); ``level`` is the highest level told so far. Levels are
    never skipped backwards, and a level whose time has come is due even if
    the worker was down when it came (it catches up, it does not forget).
    """
    due = level
    for number, delay in enumerate(delays, start=1):
        if number > due and opened_at + delay <= now:
            due = number
    return due


def next_escalation(
    opened_at: datetime, delays: Sequence[timedelta], level: int
) -> datetime | None:
    """When the level after ``level`` is due, None after the last."""
    if level >= len(delays):
        return None
    return opened_at + delays[level]
