"""Business calendars: office hours, time zone, public holidays, extra closed days.

Contracts promise response times in *business* hours as often as in clock
hours, and they define the business hours in one sentence:

- seed 004 (SEITENBAU): "Mo. – Fr. 9 - 17 Uhr, außer an Feiertagen in
  Baden-Württemberg";
- seed 002 (Webosa), section 2: "All times stated are based on UTC +1 and
  UTC +2 during daylight saving time. [...] Business days are Monday through
  Friday. Office hours are from 09:00 to 17:00."

A :class:`BusinessCalendar` turns such a sentence into the set of *open*
instants and answers questions about it: is it open now, how much business time
lies between two instants, when is a given amount of business time used up.

How it stays fast: the ticket list computes a deadline and a consumed share for
every open ticket on every page view, and a 24-business-hour target walks over
several days. Rather than walking day by day per question, the calendar builds,
lazily and once per calendar year, the sorted list of open intervals as integer
microseconds since the epoch (UTC) together with a running total of business
time before each interval. Every question is then one or two bisects plus
arithmetic, whatever the distance. Integer microseconds keep the arithmetic
exact, so ``elapsed(start, add(start, d)) == d`` holds to the microsecond.

No Django imports: the rules, the catalog loader, the CLI and the agent share
this module.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_package

__all__ = ["BusinessCalendar", "HolidaySpec"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)
_US_PER_SECOND = 1_000_000
_ONE_DAY = timedelta(days=1)

# The span the calendar agrees to precompute. Each year costs a few
# milliseconds and a few kilobytes, built only when a question reaches it; the
# bounds exist so that a typo such as year 20260 fails instead of building
# eighteen thousand years.
MIN_YEAR = 1900
MAX_YEAR = 2500

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class HolidaySpec:
    """Public holidays of a country, optionally of one subdivision (state, canton).

    Codes are those of the ``holidays`` package: ``HolidaySpec("DE", "BW")`` is
    Baden-Württemberg, where Corpus Christi is a holiday; in Berlin (``"BE"``)
    it is not.
    """

    country: str
    subdivision: str | None = None


class _Table:
    """The precomputed open intervals of the years ``first``..``last``.

    ``starts``/``ends`` are the merged, sorted open intervals in microseconds
    since the epoch; ``cum[k]`` is the business time before interval ``k``
    (so ``cum`` has one element more than ``starts``). ``lo``/``hi`` bound the
    covered instants: local midnight of 1 January of ``first`` and of the year
    after ``last``. A table is never modified once published; extending the
    span builds a new one, so readers on other threads see a consistent table
    without taking the lock.
    """

    __slots__ = ("cum", "ends", "first", "hi", "last", "lo", "starts")

    def __init__(
        self,
        *,
        first: int,
        last: int,
        lo: int,
        hi: int,
        starts: list[int],
        ends: list[int],
        cum: list[int],
    ) -> None:
        self.first = first
        self.last = last
        self.lo = lo
        self.hi = hi
        self.starts = starts
        self.ends = ends
        self.cum = cum


# An empty table covers nothing (lo > hi), so the first question builds a year.
_EMPTY = _Table(first=0, last=-1, lo=1, hi=0, starts=[], ends=[], cum=[0])


def _to_us(moment: datetime) -> int:
    """Microseconds since the epoch, exactly; naive datetimes are refused."""
    try:
        return (moment - _EPOCH) // _ONE_MICROSECOND
    except TypeError:
        # Subtracting a naive datetime from an aware one raises TypeError;
        # turn it into the ValueError the API promises, with a useful message.
        raise ValueError(
            f"expected a timezone-aware datetime, got {moment!r}; "
            "attach a zone, e.g. datetime(..., tzinfo=ZoneInfo('Europe/Berlin'))"
        ) from None


def _td_us(duration: timedelta) -> int:
    """A timedelta as integer microseconds (cheaper than ``duration // 1µs``)."""
    return (duration.days * 86_400 + duration.seconds) * _US_PER_SECOND + duration.microseconds


def _time_offset(value: time) -> timedelta:
    return timedelta(
        hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond
    )


def _normalise_hours(
    hours: Mapping[int, Sequence[tuple[time, time | None]]],
) -> tuple[tuple[tuple[timedelta, timedelta], ...], ...]:
    """Validate the weekly hours; return, per weekday, sorted and merged ranges.

    Ranges are offsets from local midnight; an end of ``None`` (24:00) is one
    day. Adjacent ranges (08:00-12:00 and 12:00-17:00) merge into one, so that
    a result of :meth:`BusinessCalendar.add` never sits on an inner seam.
    """
    week: list[list[tuple[timedelta, timedelta]]] = [[] for _ in range(7)]
    for weekday, ranges in hours.items():
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValueError(f"bad weekday {weekday!r}: use 0 (Monday) to 6 (Sunday)")
        parsed: list[tuple[timedelta, timedelta]] = []
        for start, end in ranges:
            if start.tzinfo is not None or (end is not None and end.tzinfo is not None):
                raise ValueError(
                    f"office hours on {_DAY_NAMES[weekday]} are local wall-clock times; "
                    "give times without tzinfo (the calendar has its own time zone)"
                )
            begin = _time_offset(start)
            finish = _ONE_DAY if end is None else _time_offset(end)
            if finish <= begin:
                shown_end = "24:00" if end is None else end.isoformat("minutes")
                raise ValueError(
                    f"office hours on {_DAY_NAMES[weekday]}: range "
                    f"{start.isoformat('minutes')}-{shown_end} ends before it starts"
                    " (write 24:00 / None for midnight at the end of the day)"
                )
            parsed.append((begin, finish))
        parsed.sort()
        merged: list[tuple[timedelta, timedelta]] = []
        for begin, finish in parsed:
            if merged and begin < merged[-1][1]:
                raise ValueError(
                    f"office hours on {_DAY_NAMES[weekday]}: ranges overlap "
                    f"({_fmt_offset(merged[-1][0])}-{_fmt_offset(merged[-1][1])} and "
                    f"{_fmt_offset(begin)}-{_fmt_offset(finish)})"
                )
            if merged and begin == merged[-1][1]:
                merged[-1] = (merged[-1][0], finish)
            else:
                merged.append((begin, finish))
        week[weekday].extend(merged)
    return tuple(tuple(day) for day in week)


def _fmt_offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class BusinessCalendar:
    """Weekly office hours in one time zone, minus public holidays and closed days.

    ``hours`` maps a weekday (0 = Monday .. 6 = Sunday) to its ranges
    ``(start, end)`` in local wall-clock time; ``end=None`` means 24:00.
    Several ranges a day are allowed (a lunch break is the gap between two).
    A range is open from its start (inclusive) to its end (exclusive).

    Clock changes: a wall-clock boundary means the *first instant at which the
    local clock reads that time or later*. A range containing the skipped hour
    of spring is therefore one hour shorter, a range containing the repeated
    hour of autumn one hour longer; a boundary inside the skipped hour is the
    moment the clock jumps.

    Instances are immutable from the outside and safe to share between threads;
    the precomputed years are a cache that grows on demand.
    """

    timezone: ZoneInfo

    def __init__(
        self,
        timezone: str,
        hours: Mapping[int, Sequence[tuple[time, time | None]]],
        holidays: HolidaySpec | None = None,
        closed: Iterable[date] = (),
    ) -> None:
        try:
            self.timezone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError, TypeError):
            raise ValueError(
                f"unknown time zone {timezone!r}: use an IANA name such as 'Europe/Berlin'"
            ) from None
        self._hours = _normalise_hours(hours)
        self._has_hours = any(self._hours)
        self._holiday_spec = holidays
        self._holidays: holidays_package.HolidayBase | None = None
        if holidays is not None:
            try:
                self._holidays = holidays_package.country_holidays(
                    holidays.country, subdiv=holidays.subdivision
                )
            except NotImplementedError as error:
                # The holidays package reports an unknown country or
                # subdivision this way; name both, it is a catalog typo.
                where = holidays.country + (
                    f"/{holidays.subdivision}" if holidays.subdivision else ""
                )
                raise ValueError(f"unknown holiday calendar {where!r}: {error}") from None
        self._closed = frozenset(closed)
        for day in self._closed:
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValueError(f"closed days must be dates, got {day!r}")
        self._years: dict[int, list[tuple[int, int]]] = {}
        self._table = _EMPTY
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"BusinessCalendar({self.timezone.key!r}, holidays={self._holiday_spec!r}, "
            f"closed={len(self._closed)} days)"
        )

    # -- questions -----------------------------------------------------------

    def is_open(self, instant: datetime) -> bool:
        """Whether ``instant`` lies in office hours (start inclusive, end exclusive)."""
        x = _to_us(instant)
        table = self._covering(x)
        i = bisect_right(table.starts, x) - 1
        return i >= 0 and x < table.ends[i]

    def is_business_day(self, day: date) -> bool:
        """Whether ``day`` has any office hours at all (not a holiday, not closed)."""
        return bool(self._day_intervals(day))

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of business time from ``start`` is used up.

        Precisely: the earliest instant ``t >= start`` with
        ``elapsed(start, t) == duration``. For a positive duration the answer
        therefore lies in ``(range_start, range_end]`` of an open range: work
        that runs out at 17:00 sharp is due at 17:00 that day, not at 09:00 on
        the next business day. A zero duration returns ``start`` (as the same
        instant in the calendar's zone), even outside office hours.
        """
        d = _td_us(duration)
        s = _to_us(start)
        if d < 0:
            raise ValueError(f"cannot add a negative business duration ({duration})")
        if d == 0:
            return start.astimezone(self.timezone)
        if not self._has_hours:
            raise ValueError("this calendar has no office hours at all; business time never passes")
        table = self._covering(s)
        while True:
            starts = table.starts
            cum = table.cum
            i = bisect_right(starts, s) - 1
            # Business time from the beginning of the table up to s.
            position = 0 if i < 0 else min(cum[i] + s - starts[i], cum[i + 1])
            goal = position + d
            if goal <= cum[-1]:
                break
            table = self._extend_forward(table, goal - cum[-1])
        # cum[j] < goal <= cum[j + 1]: the goal is reached inside interval j,
        # strictly after its start and at the latest at its end.
        j = bisect_left(cum, goal) - 1
        return self._from_us(starts[j] + goal - cum[j])

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time in ``[start, end)``; zero when ``end <= start``."""
        a = _to_us(start)
        b = _to_us(end)
        if b <= a:
            return timedelta(0)
        self._covering(a)
        # Covering b may rebuild the table; read both positions from the final
        # one, because positions are relative to the table's first year.
        table = self._covering(b)
        return timedelta(microseconds=self._position(table, b) - self._position(table, a))

    def next_business_day(self, after: date) -> date:
        """The first date strictly after ``after`` that has office hours.

        Used for "am folgenden Werktag" (seed 004: a "Detaillierterer Bericht an
        den Auftraggeber am folgenden Werktag" after an on-call night).
        """
        if not self._has_hours:
            raise ValueError("this calendar has no office hours at all; there is no business day")
        day = after
        # Holidays and closed days are finite per year, so a business day
        # comes within weeks; the bound only guards against pathological data.
        for _ in range(3 * 366):
            day += _ONE_DAY
            if self._day_intervals(day):
                return day
        raise ValueError(f"no business day within three years after {after.isoformat()}")

    def next_open(self, instant: datetime) -> datetime:
        """``instant`` itself if the calendar is open then, else the next opening."""
        x = _to_us(instant)
        if not self._has_hours:
            raise ValueError("this calendar has no office hours at all; it never opens")
        table = self._covering(x)
        while True:
            i = bisect_right(table.starts, x) - 1
            if i >= 0 and x < table.ends[i]:
                return instant.astimezone(self.timezone)
            if i + 1 < len(table.starts):
                return self._from_us(table.starts[i + 1])
            table = self._extend_forward(table, 1)

    def describe_closed(self, day: date) -> str | None:
        """Why ``day`` has no office hours, for the UI; ``None`` on a business day.

        A public holiday answers with its name (even on a weekend, which is
        the more useful answer), an extra closed day with ``"closed"``.
        """
        if self._holidays is not None:
            name = self._holidays.get(day)
            if name:
                return str(name)
        if day in self._closed:
            return "closed"
        if not self._hours[day.weekday()]:
            return f"no office hours on {_DAY_NAMES[day.weekday()]}"
        if not self._day_intervals(day):
            # Only a range lying wholly in the hour skipped in spring gets here.
            return "no office hours (the clock change skips them)"
        return None

    # -- building blocks -------------------------------------------------------

    @staticmethod
    def _position(table: _Table, x: int) -> int:
        """Business microseconds from the table's start up to ``x``."""
        i = bisect_right(table.starts, x) - 1
        if i < 0:
            return 0
        return min(table.cum[i] + x - table.starts[i], table.cum[i + 1])

    def _from_us(self, us: int) -> datetime:
        seconds, micro = divmod(us, _US_PER_SECOND)
        # An integer timestamp keeps fromtimestamp exact (a float would round
        # microseconds away in the far future); it also sets ``fold`` right in
        # the repeated autumn hour.
        moment = datetime.fromtimestamp(seconds, self.timezone)
        return moment.replace(microsecond=micro) if micro else moment

    def _is_closed_day(self, day: date) -> bool:
        return day in self._closed or (self._holidays is not None and day in self._holidays)

    def _first_instant(self, wall: datetime) -> int:
        """The first instant (µs) at which the local clock reads ``wall`` or later.

        For a wall time that exists once this is simply that instant; for one
        repeated in autumn it is the earlier occurrence (fold=0); for one
        skipped in spring it is the moment the clock jumps, found by bisection
        between the two readings PEP 495 offers (fold=1 is before the jump,
        fold=0 after it).
        """
        tz = self.timezone
        after = _to_us(wall.replace(tzinfo=tz))
        if self._wall(after) == wall:
            return after
        low = _to_us(wall.replace(tzinfo=tz, fold=1))
        high = after
        # Invariant: wall(low) < wall <= wall(high). Transitions fall on whole
        # seconds, but bisecting microseconds costs only a few steps more and
        # needs no such assumption. This runs about twice a year per zone.
        while high - low > 1:
            middle = (low + high) // 2
            if self._wall(middle) >= wall:
                high = middle
            else:
                low = middle
        return high

    def _wall(self, us: int) -> datetime:
        return (_EPOCH + timedelta(microseconds=us)).astimezone(self.timezone).replace(tzinfo=None)

    def _day_intervals(self, day: date) -> list[tuple[int, int]]:
        """The open intervals of one local day, in µs, empty when closed."""
        ranges = self._hours[day.weekday()]
        if not ranges or self._is_closed_day(day):
            return []
        midnight = datetime(day.year, day.month, day.day)  # noqa: DTZ001 - local wall clock
        out = []
        for begin, finish in ranges:
            start = self._first_instant(midnight + begin)
            end = self._first_instant(midnight + finish)
            # A range wholly inside the skipped spring hour has no length.
            if end > start:
                out.append((start, end))
        return out

    def _year_intervals(self, year: int) -> list[tuple[int, int]]:
        cached = self._years.get(year)
        if cached is None:
            cached = []
            day = date(year, 1, 1)
            while day.year == year:
                cached.extend(self._day_intervals(day))
                day += _ONE_DAY
            self._years[year] = cached
        return cached

    def _year_start(self, year: int) -> int:
        return self._first_instant(datetime(year, 1, 1))  # noqa: DTZ001 - local wall clock

    def _local_year(self, us: int) -> int:
        try:
            return datetime.fromtimestamp(us // _US_PER_SECOND, self.timezone).year
        except (OverflowError, OSError, ValueError):
            # Beyond what datetime can represent: report a year outside the
            # supported span so that _build raises its clear error.
            return MIN_YEAR - 1 if us < 0 else MAX_YEAR + 1

    def _build(self, first: int, last: int) -> _Table:
        """Publish a table covering the years ``first``..``last`` (caller holds the lock)."""
        if first < MIN_YEAR or last > MAX_YEAR:
            raise ValueError(
                f"business calendars cover the years {MIN_YEAR}-{MAX_YEAR}; "
                f"this question needs {first if first < MIN_YEAR else last}"
            )
        starts: list[int] = []
        ends: list[int] = []
        for year in range(first, last + 1):
            for start, end in self._year_intervals(year):
                if ends and start <= ends[-1]:
                    # Touching intervals (a 24:00 end and a 00:00 start on the
                    # next day, across a year boundary too) become one, so a
                    # deadline never lands on such a seam.
                    ends[-1] = max(ends[-1], end)
                else:
                    starts.append(start)
                    ends.append(end)
        cum = [0]
        total = 0
        for start, end in zip(starts, ends, strict=True):
            total += end - start
            cum.append(total)
        table = _Table(
            first=first,
            last=last,
            lo=self._year_start(first),
            hi=self._year_start(last + 1),
            starts=starts,
            ends=ends,
            cum=cum,
        )
        self._table = table
        return table

    def _covering(self, x: int) -> _Table:
        """A table whose span contains the instant ``x`` (``lo <= x < hi``)."""
        table = self._table
        if table.lo <= x < table.hi:
            return table
        with self._lock:
            table = self._table
            while not table.lo <= x < table.hi:
                year = self._local_year(x)
                if table.first > table.last:
                    first, last = year, year
                elif x < table.lo:
                    # Step at least one year: near New Year the local year of
                    # x can already be covered while x is not (fall-back hour).
                    first, last = min(year, table.first - 1), table.last
                else:
                    first, last = table.first, max(year, table.last + 1)
                table = self._build(first, last)
            return table

    def _extend_forward(self, table: _Table, missing: int) -> _Table:
        """A table reaching further into the future, by about ``missing`` µs of business time."""
        with self._lock:
            current = self._table
            if current.last > table.last:
                # Another thread extended meanwhile; let the caller re-check.
                return current
            # Tables only grow, so here current.last == table.last; build on
            # current, which may meanwhile reach further back.
            last_year = self._year_intervals(current.last)
            per_year = sum(end - start for start, end in last_year)
            # Estimate the years needed from the last year's business time, so
            # that a target ten years out rebuilds the table once, not ten times.
            years = 1 if per_year == 0 else max(1, -(-missing // per_year))
            # Past MAX_YEAR, _build raises the clear error.
            last = min(current.last + years, max(MAX_YEAR, current.last + 1))
            return self._build(current.first, last)
