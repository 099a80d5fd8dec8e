"""Benchmark of :meth:`BusinessCalendar.add`: ``leitstand bench sla``.

The ticket list computes every open ticket's deadlines on each page view, so
``add`` must stay cheap, and a 1,000-business-hour target (half a year of
office hours) must cost about as much as a 1-hour one. This measures both on
one core, single-threaded, from starts spread over a year, and prints as its
last line one line of JSON: ``{"short_per_s": N, "long_per_s": M}``.
"""

from __future__ import annotations

import argparse
import json
import time as clock
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from leitstand.sla.calendar import BusinessCalendar, HolidaySpec

__all__ = ["build_calendar", "main", "measure", "spread_starts"]


def build_calendar() -> BusinessCalendar:
    """Mon-Fri 09-17 in Europe/Berlin, closed on the public holidays of Baden-Württemberg.

    Seed 004: "Mo. – Fr. 9 - 17 Uhr, außer an Feiertagen in Baden-Württemberg".
    """
    office = [(time(9), time(17))]
    return BusinessCalendar(
        "Europe/Berlin", dict.fromkeys(range(5), office), holidays=HolidaySpec("DE", "BW")
    )


def spread_starts(year: int, count: int, zone: ZoneInfo) -> list[datetime]:
    """``count`` start instants spread over ``year``, in and out of office hours.

    The step is an odd number of seconds that does not divide a day, so the
    starts fall at all times of day and on every weekday, inside office hours,
    outside them and on holidays, rather than on a few repeating slots.
    """
    first = datetime(year, 1, 1, tzinfo=zone).astimezone(UTC)
    span = int((datetime(year + 1, 1, 1, tzinfo=zone).astimezone(UTC) - first).total_seconds())
    step = max(1, span // count) | 1
    # Step in UTC (adding to a local datetime moves the wall clock), then show
    # the starts in the calendar's zone as tickets would carry them.
    return [(first + timedelta(seconds=(i * step) % span)).astimezone(zone) for i in range(count)]


def measure(
    calendar: BusinessCalendar, starts: list[datetime], target: timedelta, seconds: float
) -> float:
    """``add`` computations per second, running for about ``seconds``."""
    add = calendar.add
    done = 0
    began = clock.perf_counter()
    deadline = began + seconds
    while True:
        for start in starts:
            add(start, target)
        done += len(starts)
        now = clock.perf_counter()
        if now >= deadline:
            return done / (now - began)


def main(argv: list[str]) -> int:
    """Run the benchmark; print the figures, the last line as JSON."""
    parser = argparse.ArgumentParser(
        prog="leitstand bench sla",
        description="Measure BusinessCalendar.add for a short and a long business-time target.",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=4.0,
        help="measuring time per target in seconds (default: 4)",
    )
    parser.add_argument(
        "--starts",
        type=int,
        default=10_000,
        help="number of different start instants over the year (default: 10000)",
    )
    parser.add_argument("--year", type=int, default=2026, help="year of the starts (default: 2026)")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.starts <= 0:
        parser.error("--seconds and --starts must be positive")

    calendar = build_calendar()
    starts = spread_starts(args.year, args.starts, calendar.timezone)
    short = timedelta(hours=1)
    long = timedelta(hours=1000)
    # Warm-up builds the precomputed years the measured calls will need
    # (1,000 business hours from December reach well into the next year), so
    # the figures show the steady state the ticket list sees.
    for start in starts:
        calendar.add(start, short)
        calendar.add(start, long)

    short_per_s = measure(calendar, starts, short, args.seconds)
    long_per_s = measure(calendar, starts, long, args.seconds)
    print(f"calendar: {calendar!r}, Mon-Fri 09:00-17:00")
    print(f"starts:   {len(starts)} instants spread over {args.year}")
    print(f"add 1 business hour:      {short_per_s:12,.0f} per second")
    print(f"add 1,000 business hours: {long_per_s:12,.0f} per second")
    print(f"long/short cost ratio:    {short_per_s / long_per_s:12.2f}")
    print(json.dumps({"short_per_s": int(short_per_s), "long_per_s": int(long_per_s)}))
    return 0


if __name__ == "__main__":  # pragma: no cover - convenience for a direct run
    import sys

    raise SystemExit(main(sys.argv[1:]))
