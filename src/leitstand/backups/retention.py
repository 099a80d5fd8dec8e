"""Backup retention: which snapshots are kept and which are to be forgotten.

Seed 000 §VII: "All Managed Services include a daily backup that secures all
data each day and retains it for up to 14 days."
Seed 003 §6: "Bei gebuchtem oder inkludiertem täglichen Backup werden sämtliche
Daten täglich gesichert und bis zu 6 Monate aufbewahrt."

Pure rules over plain values: no Django imports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leitstand.lib.durations import Duration, shift


@dataclass(frozen=True)
class RetentionPolicy:
    """How long a snapshot is kept: fixed time (``14d``) or calendar months (``6mo``).

    Seed 000 §VII "retains it for up to 14 days"; seed 003 §6 "bis zu 6 Monate
    aufbewahrt".
    """

    keep_for: Duration

    def __post_init__(self) -> None:
        if self.keep_for.months < 0 or self.keep_for.seconds < 0:
            raise ValueError(f"keep_for must not be negative, not {self.keep_for}")


def _aware(moment: datetime, name: str) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone, got {moment.isoformat()}")
    return moment


def _utc(moment: datetime) -> datetime:
    # Comparing two moments of the same ZoneInfo compares their wall clocks,
    # which is wrong in the repeated autumn hour; UTC never repeats.
    return moment.astimezone(UTC)


def cutoff(policy: RetentionPolicy, at: datetime) -> datetime:
    """The start of the retention period ending at ``at``, in UTC.

    Calendar months are subtracted on ``at``'s own wall clock (31 August minus
    6 months is 28 February, see :func:`leitstand.lib.durations.add_months`);
    days, hours and minutes are real time, so ``14d`` is 336 hours even across
    a clock change.
    """
    _aware(at, "at")
    return _utc(shift(at, policy.keep_for, sign=-1))


def kept(policy: RetentionPolicy, at: datetime, snapshots: Iterable[datetime]) -> list[datetime]:
    """The snapshots still kept at ``at``, oldest first.

    Seed 000 §VII "retains it for up to 14 days", seed 003 §6 "bis zu 6 Monate
    aufbewahrt": kept are the snapshots taken in the half-open period
    (``at`` - ``keep_for``, ``at``]. Snapshots taken after ``at`` are neither
    kept nor expired.
    """
    start = cutoff(policy, at)
    end = _utc(at)
    chosen = [s for s in snapshots if start < _utc(_aware(s, "a snapshot")) <= end]
    return sorted(chosen, key=_utc)


def expired(policy: RetentionPolicy, at: datetime, snapshots: Iterable[datetime]) -> list[datetime]:
    """The snapshots to be forgotten at ``at``: taken at or before the cut-off, oldest first.

    The complement of :func:`kept` among the snapshots taken by ``at``; seed
    000 §VII "retains it for up to 14 days" promises no more than that.
    """
    start = cutoff(policy, at)
    chosen = [s for s in snapshots if _utc(_aware(s, "a snapshot")) <= start]
    return sorted(chosen, key=_utc)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}: expected an IANA name such as Europe/Berlin"
        ) from exc


def daily_snapshots(daily_at: time, timezone: str, first: date, last: date) -> list[datetime]:
    """One snapshot a day at ``daily_at`` local time, from ``first`` to ``last`` inclusive.

    Seed 000 §VII "a daily backup that secures all data each day". On the
    spring night a time in the missing hour happens an hour later by the
    clock (02:30 becomes 03:30), on the autumn night a repeated time happens
    the first time; results are aware in ``timezone``.
    """
    if daily_at.tzinfo is not None:
        raise ValueError("daily_at is a wall-clock time in the given zone, without its own tzinfo")
    tz = _zone(timezone)
    result = []
    day = first
    while day <= last:
        local = datetime.combine(day, daily_at, tzinfo=tz)  # fold=0
        # Through UTC and back: a non-existent wall time comes out as a real one.
        result.append(local.astimezone(UTC).astimezone(tz))
        day += timedelta(days=1)
    return result
