"""Durations and sizes as the contracts write them: ``1h30m``, ``6mo``, ``2GiB``.

The catalog format (``shared/scenarios/FORMAT.md``) defines a duration as one or
more ``<integer><unit>`` with the units ``s``, ``m``, ``h``, ``d`` (24 h of real
time), ``w`` and ``mo`` (calendar months). Calendar months have no fixed length,
so a :class:`Duration` keeps them apart from the seconds and only
:func:`shift` turns them into an instant, on the wall clock of that instant.

No Django imports: this module is shared by the rules, the catalog and the agent.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PART = re.compile(r"(\d+)(mo|[smhdw])")
_WHOLE = re.compile(r"(?:\d+(?:mo|[smhdw]))+")
_SIZE = re.compile(r"(\d+)(B|KiB|MiB|GiB|TiB|kB|KB|MB|GB|TB)")
_SIZE_FACTORS = {
    "B": 1,
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
    "TiB": 1024**4,
    "kB": 1000,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "TB": 1000**4,
}


@dataclass(frozen=True, order=True)
class Duration:
    """A span of calendar months plus a span of real seconds."""

    months: int = 0
    seconds: int = 0

    @property
    def is_fixed(self) -> bool:
        """True when the duration has a fixed length (no calendar months)."""
        return self.months == 0

    def as_timedelta(self) -> timedelta:
        """The fixed length; a duration with calendar months has none."""
        if self.months:
            raise ValueError("a duration in calendar months has no fixed length")
        return timedelta(seconds=self.seconds)

    def __str__(self) -> str:
        months = f"{self.months}mo" if self.months else ""
        if self.seconds or not self.months:
            return months + format_duration(timedelta(seconds=self.seconds))
        return months


def parse_duration(text: str, *, allow: str = "smhdw" + "o") -> Duration:
    """Parse ``90m``, ``1h30m``, ``3d``, ``6mo``.

    ``allow`` names the permitted units (``o`` stands for ``mo``); a
    business-time target, for instance, takes only ``h`` and ``m``.
    Raises :class:`ValueError` with a message fit for a user.
    """
    if not isinstance(text, str):
        raise ValueError(f"bad duration {text!r}: expected text such as '4h' or '1h30m'")
    compact = text.strip()
    if not compact or not _WHOLE.fullmatch(compact):
        raise ValueError(
            f"bad duration {text!r}: expected <number><unit>... with units s, m, h, d, w, mo"
        )
    months = 0
    seconds = 0
    for number, unit in _PART.findall(compact):
        key = "o" if unit == "mo" else unit
        if key not in allow:
            units = ", ".join("mo" if u == "o" else u for u in allow)
            raise ValueError(f"bad duration {text!r}: unit '{unit}' not allowed here (use {units})")
        if unit == "mo":
            months += int(number)
        else:
            seconds += int(number) * _UNIT_SECONDS[unit]
    return Duration(months=months, seconds=seconds)


def parse_timedelta(text: str, *, allow: str = "smhdw") -> timedelta:
    """Parse a duration of fixed length (no calendar months) into a timedelta."""
    return parse_duration(text, allow=allow).as_timedelta()


def format_duration(value: timedelta) -> str:
    """Print a duration the way FORMAT.md does: ``10h``, ``4h30m``, ``0m``.

    Days are printed as hours, because business durations are read in hours.
    Seconds appear only when there are any.
    """
    total = int(value.total_seconds())
    if total < 0:
        return "-" + format_duration(-value)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(f"{hours}h")
    if minutes or (not hours and not seconds):
        parts.append(f"{minutes}m")
    if seconds:
        parts.append(f"{seconds}s")
    return "".join(parts)


def add_months(moment: datetime, months: int) -> datetime:
    """Move ``moment`` by whole calendar months on its own wall clock.

    The day is clamped to the target month's length (31 March minus one month
    is 28 or 29 February), the way people count "six months ago".
    """
    index = moment.year * 12 + (moment.month - 1) + months
    year, month0 = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


def shift(moment: datetime, duration: Duration, *, sign: int = 1) -> datetime:
    """``moment`` plus (``sign=1``) or minus (``sign=-1``) ``duration``.

    Months move the wall clock of ``moment``'s own zone; seconds are real time.
    The seconds are added in UTC because arithmetic on a zoned datetime moves
    the wall clock, which would make a day across a clock change 23 or 25 hours.
    """
    if sign not in (1, -1):
        raise ValueError("sign must be 1 or -1")
    moved = add_months(moment, sign * duration.months) if duration.months else moment
    if not duration.seconds:
        return moved
    step = sign * timedelta(seconds=duration.seconds)
    if moved.tzinfo is None:
        return moved + step
    return (moved.astimezone(UTC) + step).astimezone(moved.tzinfo)


def parse_size(text: str) -> int:
    """Parse ``300MiB``, ``2GiB`` (binary) or ``500MB`` (decimal) into bytes."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if not isinstance(text, str) or not _SIZE.fullmatch(text.strip()):
        raise ValueError(f"bad size {text!r}: expected <number><unit> with B, KiB, MiB, GiB, TiB")
    match = _SIZE.fullmatch(text.strip())
    assert match is not None
    return int(match.group(1)) * _SIZE_FACTORS[match.group(2)]


def format_size(size: int) -> str:
    """Print a byte count in the largest binary unit that divides it exactly."""
    for unit in ("TiB", "GiB", "MiB", "KiB"):
        factor = _SIZE_FACTORS[unit]
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B"
