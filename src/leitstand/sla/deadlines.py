"""SLA targets: when a target falls due, and how much of it is used up.

A target is one cell of a contract's response-time table. Seed 002 (Webosa),
section 2.1, is the model (initial response, initial diagnosis, restoration)::

    Priority 1  Within 1 hour           Within 4 hours
                Within 4 hours after diagnosis
    Priority 2  Within 1 business hour  Within 8 business hours
                Within 4 business hours after diagnosis

with the rule of section 2: "Unless stated otherwise, all references to hours
and days are clock hours and calendar days. Business days are Monday through
Friday. Office hours are from 09:00 to 17:00." So a target counts either clock
time (24x7, ``clock=True``) or business time on the policy's calendar
(``clock=False``), from the start of the incident or, for "after diagnosis",
from the diagnosis.

While the provider waits for the customer, the target's clock stops: such
``paused`` intervals do not count, for clock and business targets alike.

No Django imports: the ticket models, the scenario checker and the reports all
call these functions with plain values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from leitstand.sla.calendar import BusinessCalendar

__all__ = ["Target", "consumed", "deadline"]


@dataclass(frozen=True)
class Target:
    """One response-time promise: "Within 4 business hours after diagnosis".

    ``within`` is the length; ``clock`` says whether it is real elapsed time
    around the clock (True: "Within 4 hours") or business time on the
    calendar (False: "Within 4 business hours"); ``from_diagnosis`` makes it
    count from the diagnosis instead of the start ("after diagnosis").
    """

    within: timedelta
    clock: bool
    from_diagnosis: bool = False


def _utc(moment: datetime, what: str) -> datetime:
    """``moment`` in UTC, so that subtraction measures real time.

    Subtracting two datetimes that share a tzinfo object compares wall clocks
    and would make the night of a clock change one hour too short or long.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


def _origin(target: Target, start: datetime, diagnosed_at: datetime | None) -> datetime | None:
    """Where the target's clock starts; None while a diagnosis is still missing."""
    if target.within < timedelta(0):
        raise ValueError(f"a target cannot be negative ({target.within})")
    if target.from_diagnosis:
        return None if diagnosed_at is None else _utc(diagnosed_at, "diagnosed_at")
    return _utc(start, "start")


def _pauses(
    origin: datetime, paused: Sequence[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """The pauses after ``origin``, in UTC, sorted and merged.

    Pauses come from ticket history and may overlap (two open questions to
    the customer at once) or begin before the diagnosis a target counts from;
    each instant counts as paused at most once.
    """
    pairs = []
    for begin, end in paused:
        a = _utc(begin, "a pause's start")
        b = _utc(end, "a pause's end")
        if b < a:
            raise ValueError(
                f"a pause ends before it starts ({begin.isoformat()} - {end.isoformat()})"
            )
        if b > origin:
            pairs.append((max(a, origin), b))
    pairs.sort()
    merged: list[tuple[datetime, datetime]] = []
    for a, b in pairs:
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def _measure(target: Target, calendar: BusinessCalendar, a: datetime, b: datetime) -> timedelta:
    """How much of the target passes in ``[a, b)`` without pauses."""
    if target.clock:
        return max(b - a, timedelta(0))
    return calendar.elapsed(a, b)


def _advance(
    target: Target, calendar: BusinessCalendar, a: datetime, amount: timedelta
) -> datetime:
    """The earliest instant at which ``amount`` of the target has passed after ``a``."""
    if target.clock:
        # Real time: add in UTC. Adding to a local datetime would add wall-clock
        # time, and "P1 across the spring clock change" would come out an hour late.
        return (a + amount).astimezone(calendar.timezone)
    return calendar.add(a, amount)


def deadline(
    target: Target,
    calendar: BusinessCalendar,
    start: datetime,
    *,
    diagnosed_at: datetime | None = None,
    paused: Sequence[tuple[datetime, datetime]] = (),
) -> datetime | None:
    """When ``target`` falls due for an incident that started at ``start``.

    The earliest instant by which ``target.within`` has passed on the target's
    clock (real or business time), not counting ``paused`` intervals. Returns
    None for a target "after diagnosis" while ``diagnosed_at`` is None: that
    clock is not running yet. The result is in the calendar's time zone.

    Example (seed 002, Priority 2, "Within 8 business hours"): reported Monday
    09:00, waiting for the customer 10:00-14:00: one hour counts on Monday
    morning, three in the afternoon, four on Tuesday; due Tuesday 13:00.
    """
    origin = _origin(target, start, diagnosed_at)
    if origin is None:
        return None
    remaining = target.within
    if not remaining:
        return origin.astimezone(calendar.timezone)
    cursor = origin
    for begin, end in _pauses(origin, paused):
        if begin > cursor:
            available = _measure(target, calendar, cursor, begin)
            if remaining <= available:
                # Due before (or exactly when) the pause begins.
                return _advance(target, calendar, cursor, remaining)
            remaining -= available
        cursor = max(cursor, end)
    return _advance(target, calendar, cursor, remaining)


def consumed(
    target: Target,
    calendar: BusinessCalendar,
    start: datetime,
    at: datetime,
    *,
    diagnosed_at: datetime | None = None,
    paused: Sequence[tuple[datetime, datetime]] = (),
) -> timedelta | None:
    """How much of ``target`` has passed by ``at``, for SLA state and "breaching soon".

    Counted like :func:`deadline` (real or business time, pauses excluded), so
    ``consumed(..., at=deadline(...)) == target.within``. Not capped: past the
    deadline the result exceeds ``within`` by the overrun. Zero before the
    clock starts; None while a target "after diagnosis" has no diagnosis yet.
    """
    origin = _origin(target, start, diagnosed_at)
    if origin is None:
        return None
    end = _utc(at, "at")
    if end <= origin:
        return timedelta(0)
    used = _measure(target, calendar, origin, end)
    for begin, finish in _pauses(origin, paused):
        if begin >= end:
            break
        used -= _measure(target, calendar, begin, min(finish, end))
    return used
