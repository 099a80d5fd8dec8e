"""Availability of a service over a period, from its confirmed state changes.

Time in announced maintenance counts neither as up nor as down (seed 002
§1.2: scheduled maintenance happens in the agreed windows; seed 002 §5.4:
"Temporary service interruptions during scheduled or emergency maintenance").
Time before the first result (pending) is not counted either. A service is
down while it is confirmed CRITICAL or UNREACHABLE (its host is down: the
customer cannot reach it either); WARNING and UNKNOWN count as up, because
they are no evidence of an outage.

Pure: plain values in, plain values out, no Django.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

DOWN = frozenset({"critical", "unreachable"})
NOT_COUNTED = frozenset({"pending"})


@dataclass(frozen=True)
class Availability:
    """Seconds up and down in the counted time, and the share up."""

    up: timedelta
    down: timedelta
    excluded: timedelta

    @property
    def counted(self) -> timedelta:
        return self.up + self.down

    @property
    def ratio(self) -> float | None:
        """Up / counted, or None when nothing was counted."""
        total = self.counted.total_seconds()
        return None if total == 0 else self.up.total_seconds() / total


def _merge(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _overlap(
    start: datetime, end: datetime, intervals: Sequence[tuple[datetime, datetime]]
) -> timedelta:
    total = timedelta()
    for a, b in intervals:
        lo, hi = max(a, start), min(b, end)
        if hi > lo:
            total += hi - lo
    return total


def availability(
    start: datetime,
    end: datetime,
    state_at_start: str,
    changes: Iterable[tuple[datetime, str]],
    maintenance: Iterable[tuple[datetime, datetime]] = (),
) -> Availability:
    """Availability over [start, end).

    ``state_at_start`` is the confirmed state at ``start``; ``changes`` are the
    confirmed changes (instant, new state) in any order; changes outside the
    period are ignored.
    """
    if end < start:
        raise ValueError("the period ends before it starts")
    windows = _merge(maintenance)
    timeline = sorted((at, state) for at, state in changes if start < at < end)
    up = down = excluded = timedelta()
    cursor, state = start, state_at_start
    for at, new_state in [*timeline, (end, state_at_start)]:
        span = at - cursor
        in_maintenance = _overlap(cursor, at, windows)
        if state in NOT_COUNTED:
            excluded += span
        else:
            excluded += in_maintenance
            if state in DOWN:
                down += span - in_maintenance
            else:
                up += span - in_maintenance
        cursor, state = at, new_state
    return Availability(up=up, down=down, excluded=excluded)
