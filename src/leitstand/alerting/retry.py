"""When to try a failed notification again, and when to give up.

Exponential backoff (30 s, 1 min, 2 min ... capped at 30 min) with "equal
jitter": half of each delay is fixed, half random. The fixed half keeps a
retry from coming back at once; the random half spreads the thousand
notifications that failed together when a mail server went away, so they do
not all hit it again in the same second when it returns. After 24 hours the
outbox gives up on a channel and falls through to the owner's next one.

Pure functions; the random source is a parameter so tests can pin it.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

BASE = timedelta(seconds=30)
CAP = timedelta(minutes=30)
GIVE_UP_AFTER = timedelta(hours=24)


def backoff(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """The pause after the ``attempts``-th failed attempt (1 for the first failure)."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    # 2**exponent would overflow float arithmetic long before attempt 10_000;
    # the cap is reached at attempt 7 anyway.
    ceiling = min(CAP, BASE * (1 << min(attempts - 1, 32)))
    half = ceiling / 2
    return half + half * (rng or random.SystemRandom()).random()


def next_attempt(
    first_queued: datetime,
    now: datetime,
    attempts: int,
    *,
    rng: random.Random | None = None,
) -> datetime | None:
    """When to try again after ``attempts`` failures, or None once 24 h are used up.

    The last retry is moved up to the horizon rather than dropped, so a
    notification always gets one try close to the 24-hour mark.
    """
    horizon = first_queued + GIVE_UP_AFTER
    if now >= horizon:
        return None
    return min(now + backoff(attempts, rng=rng), horizon)
