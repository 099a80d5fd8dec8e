"""Maintenance windows: recurring wall-clock periods in which planned work happens.

Seed 002 §1.2: "Webosa performs Scheduled Maintenance during predefined
maintenance windows, which take place daily between 01:00 and 08:00 (CET)."
Seed 001 §5.1: "Die Ausführung erfolgt ausschließlich nach Aufforderung bzw.
Auftragserteilung durch den Kunden im nächstmöglichen Wartungsfenster."

A window is written in local wall-clock time of its zone. On the nights the
clocks change it is correspondingly shorter or longer: 01:00-08:00 in
Amsterdam lasts 6 hours on the last Sunday of March and 8 hours on the last
Sunday of October. A start or end in the hour that does not exist happens an
hour later by the clock (02:30 becomes 03:30); a start or end in the repeated
autumn hour means its first occurrence (``zoneinfo``'s ``fold=0``).

Pure rules over plain values: no Django imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAYS_HELP = "expected a day (mon, tue, wed, thu, fri, sat, sun) or a range such as mon-fri"
# A window lasts less than a day plus the longest clock change; looking two
# start days back always finds the one still running.
_LOOK_BACK = 2
# With at least one start day a week, a start always follows within two weeks,
# even if a clock change swallows one window entirely.
_LOOK_AHEAD = 15


def parse_days(text: str) -> frozenset[int]:
    """Parse the days a window starts on: ``tue``, ``mon-fri``, ``sat-sun``, ``mon-sun``.

    Weekdays are numbered like :meth:`datetime.date.weekday` (0 is Monday). A
    range may wrap over the weekend: ``fri-mon`` is Friday to Monday.
    """
    if not isinstance(text, str):
        raise ValueError(f"bad days {text!r}: {_DAYS_HELP}")
    parts = [part.strip().lower() for part in text.split("-")]
    if not 1 <= len(parts) <= 2 or any(part not in DAY_NAMES for part in parts):
        raise ValueError(f"bad days {text!r}: {_DAYS_HELP}")
    first, last = DAY_NAMES.index(parts[0]), DAY_NAMES.index(parts[-1])
    count = (last - first) % 7 + 1
    return frozenset((first + offset) % 7 for offset in range(count))


def _utc(moment: datetime, name: str) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone, got {moment.isoformat()}")
    # Two moments of the same ZoneInfo compare by wall clock, ignoring which
    # of the two autumn 02:30s is meant; in UTC they compare as moments.
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class MaintenanceWindow:
    """A window that starts at ``start`` on each of ``days`` and ends at ``end``.

    Seed 002 §1.2 "maintenance windows, which take place daily between 01:00
    and 08:00 (CET)". ``days`` are the weekdays (0 is Monday) the window
    *starts* on; an ``end`` at or before ``start`` is on the next day, so a
    Friday-only 22:00-04:00 window ends on Saturday morning.
    """

    timezone: str
    days: frozenset[int]
    start: time
    end: time
    _zone: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {self.timezone!r}: expected an IANA name such as Europe/Berlin"
            ) from exc
        object.__setattr__(self, "_zone", zone)
        days = frozenset(self.days)
        if not days:
            raise ValueError("a maintenance window needs at least one day")
        if not days <= frozenset(range(7)):
            raise ValueError(f"bad days {sorted(days)}: weekdays are 0 (Monday) to 6 (Sunday)")
        object.__setattr__(self, "days", days)
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError(
                "start and end are wall-clock times in the window's zone, without tzinfo"
            )
        if self.start == self.end:
            raise ValueError(f"a maintenance window cannot start and end at {self.start:%H:%M}")

    def _local(self, day: date, at: time) -> datetime:
        # fold=0, then through UTC: a wall time that does not exist comes out
        # an hour later by the clock, as a real moment with the right offset.
        return datetime.combine(day, at, tzinfo=self._zone).astimezone(UTC).astimezone(self._zone)

    def occurrence(self, day: date) -> tuple[datetime, datetime] | None:
        """The window starting on local date ``day``, or ``None`` if there is none.

        ``None`` also when the spring clock change swallows the window whole
        (02:00-03:00 on the night 02:00 becomes 03:00).
        """
        if day.weekday() not in self.days:
            return None
        start = self._local(day, self.start)
        end_day = day if self.end > self.start else day + timedelta(days=1)
        end = self._local(end_day, self.end)
        if end.astimezone(UTC) <= start.astimezone(UTC):
            return None
        return start, end

    def contains(self, at: datetime) -> bool:
        """Whether ``at`` lies in a window (start inclusive, end exclusive).

        Seed 001 §5.1 "im nächstmöglichen Wartungsfenster": work may start now
        when this is true. A window that started the day before still counts.
        """
        moment = _utc(at, "at")
        today = moment.astimezone(self._zone).date()
        for back in range(_LOOK_BACK, -1, -1):
            found = self.occurrence(today - timedelta(days=back))
            if found and found[0].astimezone(UTC) <= moment < found[1].astimezone(UTC):
                return True
        return False

    def next_start(self, after: datetime) -> datetime:
        """The first window start strictly after ``after``, in the window's zone.

        Seed 001 §5.1 "Die Ausführung erfolgt ... im nächstmöglichen
        Wartungsfenster."
        """
        moment = _utc(after, "after")
        today = moment.astimezone(self._zone).date()
        # From yesterday: a start in a missing hour just before midnight can
        # move onto today's date.
        for ahead in range(-1, _LOOK_AHEAD):
            found = self.occurrence(today + timedelta(days=ahead))
            if found and found[0].astimezone(UTC) > moment:
                return found[0]
        raise AssertionError("unreachable: a window with a start day starts every week")

    def occurrences(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The windows overlapping the half-open range [``start``, ``end``), in order.

        For the calendar feed and for suppressing alarms during maintenance
        (seed 002 §5.4 "Temporary service interruptions during scheduled or
        emergency maintenance").
        """
        low, high = _utc(start, "start"), _utc(end, "end")
        if high < low:
            raise ValueError("the end of the range is before its start")
        day = low.astimezone(self._zone).date() - timedelta(days=_LOOK_BACK)
        last = high.astimezone(self._zone).date()
        result = []
        while day <= last:
            found = self.occurrence(day)
            if found and found[0].astimezone(UTC) < high and found[1].astimezone(UTC) > low:
                result.append(found)
            day += timedelta(days=1)
        return result
