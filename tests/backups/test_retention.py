"""Backup retention (backups/retention.py)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leitstand.backups.retention import (
    RetentionPolicy,
    cutoff,
    daily_snapshots,
    expired,
    kept,
)
from leitstand.lib.durations import Duration

BERLIN = ZoneInfo("Europe/Berlin")
# seed 000 §VII "retains it for up to 14 days"
DAILY_14D = RetentionPolicy(Duration(seconds=14 * 86400))
# seed 003 §6 "bis zu 6 Monate aufbewahrt"
DAILY_6MO = RetentionPolicy(Duration(months=6))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# The snapshot series of the scenarios: {daily_at, timezone, from, to}.
Series = tuple[time, str, date, date]


@pytest.mark.parametrize(
    ("policy", "moment", "series", "count", "oldest"),
    [
        # it-hafen.yaml
        (
            DAILY_14D,
            "2026-11-22T12:00:00+01:00",
            (time(2), "Europe/Berlin", date(2026, 10, 1), date(2026, 11, 22)),
            14,
            "2026-11-09T02:00:00+01:00",
        ),
        # cloudflux.yaml
        (
            DAILY_6MO,
            "2026-11-22T12:00:00+01:00",
            (time(2), "Europe/Berlin", date(2026, 1, 1), date(2026, 11, 22)),
            184,
            "2026-05-23T02:00:00+02:00",
        ),
    ],
)
def test_scenario_retention(
    policy: RetentionPolicy, moment: str, series: Series, count: int, oldest: str
) -> None:
    snapshots = daily_snapshots(*series)
    result = kept(policy, at(moment), snapshots)
    assert len(result) == count
    assert result[0].isoformat() == oldest
    # Nothing in these inputs lies after ``at``: the rest is expired.
    assert len(expired(policy, at(moment), snapshots)) == len(snapshots) - count


@pytest.mark.parametrize(
    ("policy", "moment", "expected_cutoff"),
    [
        (DAILY_14D, "2026-11-22T12:00:00+01:00", "2026-11-08T11:00:00+00:00"),
        (DAILY_6MO, "2026-11-22T12:00:00+01:00", "2026-05-22T11:00:00+00:00"),
        # Months are clamped to the shorter month's end ...
        (DAILY_6MO, "2026-08-31T12:00:00+02:00", "2026-02-28T10:00:00+00:00"),
        (DAILY_6MO, "2028-08-31T12:00:00+02:00", "2028-02-29T10:00:00+00:00"),
        (
            RetentionPolicy(Duration(months=1)),
            "2026-03-31T12:00:00+02:00",
            "2026-02-28T10:00:00+00:00",
        ),
        (
            RetentionPolicy(Duration(months=1)),
            "2026-03-30T12:00:00+02:00",
            "2026-02-28T10:00:00+00:00",
        ),
        # ... on ``at``'s own wall clock: 12:00 in Berlin in August is 12:00 in
        # Berlin in February, an hour later in UTC.
        (DAILY_6MO, "2026-08-31T12:00:00+02:00[Europe/Berlin]", "2026-02-28T11:00:00+00:00"),
        # Days are real time: 14 days before 5 April 12:00 CEST is 22 March 11:00 CET.
        (DAILY_14D, "2026-04-05T12:00:00+02:00[Europe/Berlin]", "2026-03-22T10:00:00+00:00"),
        (DAILY_14D, "2026-11-01T12:00:00+01:00[Europe/Berlin]", "2026-10-18T11:00:00+00:00"),
        # Months and days together: first the months, then the days.
        (
            RetentionPolicy(Duration(months=1, seconds=86400)),
            "2026-03-31T12:00:00+02:00",
            "2026-02-27T10:00:00+00:00",
        ),
    ],
)
def test_cutoff(policy: RetentionPolicy, moment: str, expected_cutoff: str) -> None:
    if moment.endswith("]"):
        text, zone = moment[:-1].split("[")
        when = at(text).astimezone(ZoneInfo(zone))
    else:
        when = at(moment)
    assert cutoff(policy, when).isoformat() == expected_cutoff


def test_month_end_clamping_boundaries() -> None:
    now = at("2026-08-31T12:00:00+02:00")
    snapshots = [
        at("2026-08-31T12:00:01+02:00"),  # after ``at``: neither
        at("2026-02-28T12:00:00+02:00"),  # exactly the cut-off: expired
        at("2026-08-31T12:00:00+02:00"),  # exactly ``at``: kept
        at("2026-02-28T12:00:01+02:00"),  # just after the cut-off: kept
        at("2026-03-31T02:00:00+02:00"),
        at("2026-02-27T02:00:00+01:00"),
    ]
    assert kept(DAILY_6MO, now, snapshots) == [
        at("2026-02-28T12:00:01+02:00"),
        at("2026-03-31T02:00:00+02:00"),
        at("2026-08-31T12:00:00+02:00"),
    ]
    assert expired(DAILY_6MO, now, snapshots) == [
        at("2026-02-27T02:00:00+01:00"),
        at("2026-02-28T12:00:00+02:00"),
    ]


def test_fourteen_days_across_the_spring_change_are_real_days() -> None:
    now = datetime(2026, 4, 5, 12, 0, tzinfo=BERLIN)
    snapshots = [
        datetime(2026, 3, 22, 11, 0, tzinfo=BERLIN),
        datetime(2026, 3, 22, 11, 30, tzinfo=BERLIN),
        datetime(2026, 3, 22, 12, 0, tzinfo=BERLIN),
    ]
    # 336 hours back from 10:00 UTC is 22 March 10:00 UTC, 11:00 in Berlin:
    # the 11:30 and 12:00 snapshots are younger than 14 days.
    assert kept(DAILY_14D, now, snapshots) == snapshots[1:]
    assert expired(DAILY_14D, now, snapshots) == snapshots[:1]


def test_fourteen_days_boundaries() -> None:
    now = at("2026-11-22T12:00:00+01:00")
    snapshots = [
        at("2026-11-08T12:00:00+01:00"),
        at("2026-11-08T12:00:00.000001+01:00"),
        at("2026-11-22T12:00:00+01:00"),
        at("2026-11-22T12:00:00.000001+01:00"),
    ]
    assert kept(DAILY_14D, now, snapshots) == snapshots[1:3]
    assert expired(DAILY_14D, now, snapshots) == snapshots[:1]


def test_moments_in_other_offsets_compare_as_moments() -> None:
    now = at("2026-11-22T12:00:00+01:00")
    # 10:59 UTC is before ``at`` (11:00 UTC); 12:30+01:00 is after it.
    snapshots = [at("2026-11-22T10:59:00+00:00"), at("2026-11-22T12:30:00+01:00")]
    assert kept(DAILY_14D, now, snapshots) == snapshots[:1]
    assert expired(DAILY_14D, now, snapshots) == []


def test_repeated_autumn_hour_sorts_by_moment() -> None:
    # Both are 02:30 in Berlin on 25 October 2026; the second (fold=1) is an
    # hour later. Sorting by wall clock would call them equal.
    first = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN)
    second = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN)
    now = datetime(2026, 10, 25, 2, 45, fold=0, tzinfo=BERLIN)
    # ``now`` is 00:45 UTC: the second 02:30 (01:30 UTC) is still to come.
    assert kept(DAILY_14D, now, [second, first]) == [first]
    later = datetime(2026, 10, 25, 3, 0, tzinfo=BERLIN)
    assert kept(DAILY_14D, later, [second, first]) == [first, second]


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        kept(DAILY_14D, datetime(2026, 11, 22, 12, 0), [])
    with pytest.raises(ValueError, match="time zone"):
        expired(DAILY_14D, at("2026-11-22T12:00:00+01:00"), [datetime(2026, 11, 1, 2, 0)])


def test_negative_keep_for_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        RetentionPolicy(Duration(months=-1))


@pytest.mark.parametrize(
    ("daily_at", "first", "last", "expected"),
    [
        (
            time(2),
            date(2026, 11, 21),
            date(2026, 11, 22),
            ["2026-11-21T02:00:00+01:00", "2026-11-22T02:00:00+01:00"],
        ),
        # Spring: 02:30 does not exist on 29 March and happens at 03:30.
        (
            time(2, 30),
            date(2026, 3, 28),
            date(2026, 3, 30),
            ["2026-03-28T02:30:00+01:00", "2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00"],
        ),
        # Autumn: 02:30 happens twice on 25 October; the first one is taken.
        (
            time(2, 30),
            date(2026, 10, 24),
            date(2026, 10, 26),
            ["2026-10-24T02:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"],
        ),
        (time(2), date(2026, 11, 22), date(2026, 11, 21), []),
    ],
)
def test_daily_snapshots(daily_at: time, first: date, last: date, expected: list[str]) -> None:
    result = daily_snapshots(daily_at, "Europe/Berlin", first, last)
    assert [moment.isoformat() for moment in result] == expected
    assert all(moment.tzinfo == BERLIN for moment in result)


def test_daily_snapshots_refuse_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        daily_snapshots(time(2), "Mars/Olympus", date(2026, 1, 1), date(2026, 1, 2))
    with pytest.raises(ValueError, match="tzinfo"):
        daily_snapshots(time(2, tzinfo=UTC), "Europe/Berlin", date(2026, 1, 1), date(2026, 1, 2))


zones = st.sampled_from([UTC, BERLIN, ZoneInfo("America/New_York")])
moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=zones
)
policies = st.builds(
    lambda months, seconds: RetentionPolicy(Duration(months=months, seconds=seconds)),
    st.integers(min_value=0, max_value=24),
    st.integers(min_value=0, max_value=90 * 86400),
)


def _key(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


@given(policies, moments, st.lists(moments, max_size=30))
def test_kept_expired_and_future_partition_the_snapshots(
    policy: RetentionPolicy, now: datetime, snapshots: list[datetime]
) -> None:
    keep = kept(policy, now, snapshots)
    forget = expired(policy, now, snapshots)
    future = [s for s in snapshots if _key(s) > _key(now)]
    assert Counter(map(_key, keep + forget + future)) == Counter(map(_key, snapshots))
    assert [_key(s) for s in keep] == sorted(_key(s) for s in keep)
    assert [_key(s) for s in forget] == sorted(_key(s) for s in forget)
    # Everything kept is younger than everything expired.
    if keep and forget:
        assert _key(forget[-1]) < _key(keep[0])
