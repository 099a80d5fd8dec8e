"""Backoff with jitter, its cap, and the 24-hour horizon."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leitstand.alerting.retry import BASE, CAP, GIVE_UP_AFTER, backoff, next_attempt

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


class Fixed(random.Random):
    """A random source that always answers ``value``."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.mark.parametrize(
    ("attempts", "low", "high"),
    [
        (1, 15, 30),
        (2, 30, 60),
        (3, 60, 120),
        (6, 480, 960),
        (7, 900, 1800),  # capped from here on
        (8, 900, 1800),
        (10_000, 900, 1800),
    ],
)
def test_backoff_bounds(attempts: int, low: int, high: int) -> None:
    assert backoff(attempts, rng=Fixed(0.0)) == timedelta(seconds=low)
    assert backoff(attempts, rng=Fixed(0.999999)) < timedelta(seconds=high)
    assert backoff(attempts, rng=Fixed(0.999999)) > timedelta(seconds=high * 0.99)


def test_backoff_refuses_zero_attempts() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        backoff(0)


def test_jitter_spreads_retries() -> None:
    rng = random.Random(7)
    delays = {backoff(5, rng=rng) for _ in range(100)}
    assert len(delays) == 100


@given(st.integers(1, 100), st.floats(0, 1, exclude_max=True))
def test_backoff_is_within_half_and_whole_of_the_capped_delay(attempts: int, r: float) -> None:
    ceiling = min(CAP, BASE * 2 ** min(attempts - 1, 32))
    delay = backoff(attempts, rng=Fixed(r))
    assert ceiling / 2 <= delay <= ceiling


@given(st.integers(1, 100), st.integers(0, 30 * 3600), st.floats(0, 1, exclude_max=True))
def test_next_attempt_never_passes_the_horizon(attempts: int, seconds: int, r: float) -> None:
    now = T0 + timedelta(seconds=seconds)
    result = next_attempt(T0, now, attempts, rng=Fixed(r))
    if now >= T0 + GIVE_UP_AFTER:
        assert result is None
    else:
        assert result is not None
        assert now < result <= T0 + GIVE_UP_AFTER


def test_a_day_of_failures_takes_about_fifty_attempts_then_gives_up() -> None:
    now, attempts = T0, 0
    rng = random.Random(1)
    while (retry := next_attempt(T0, now, attempts + 1, rng=rng)) is not None:
        attempts += 1
        now = retry
    assert now == T0 + GIVE_UP_AFTER  # the last try lands on the horizon
    assert 48 <= attempts <= 100
