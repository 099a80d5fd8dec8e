"""Account licences: how much of a plan's limit is used (seed 000 VI).

Seed 000 VI: "Depending on the chosen service model, the number of user
accounts and the number of simultaneously connected users is limited. The
permissible quantity is determined by the booked service type. An optional
expansion of these limits is available for a fee via the customer portal or by
e-mail."

Pure rules over plain values: the limit of a contract is its plan's plus what
the booked add-ons add; a count is assessed against it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

NEAR_AT = 0.9  # "nearly used up" from nine tenths on: time to ask for more


class UsageState(StrEnum):
    """Where a count stands against its limit."""

    UNLIMITED = "unlimited"  # the plan sets no limit
    UNKNOWN = "unknown"  # nothing measured yet
    OK = "ok"
    NEAR = "near"
    AT_LIMIT = "at_limit"
    OVER = "over"


def limit(plan_limit: int | None, extras: Iterable[int]) -> int | None:
    """The permitted quantity: the plan's ("determined by the booked service type")
    plus the add-ons' expansions; ``None`` when the plan sets no limit, which no
    add-on can turn into one."""
    if plan_limit is None:
        return None
    return plan_limit + sum(extras)


def assess(used: int | None, permitted: int | None) -> UsageState:
    """The state of ``used`` against ``permitted``."""
    if permitted is None:
        return UsageState.UNLIMITED
    if used is None:
        return UsageState.UNKNOWN
    if used > permitted:
        return UsageState.OVER
    if used == permitted:
        return UsageState.AT_LIMIT
    if permitted and used >= permitted * NEAR_AT:
        return UsageState.NEAR
    return UsageState.OK


@dataclass(frozen=True)
class Usage:
    """One limited quantity of one contract: used, permitted, and the state."""

    used: int | None
    permitted: int | None

    @property
    def state(self) -> UsageState:
        return assess(self.used, self.permitted)

    @property
    def percent(self) -> int | None:
        """Share of the limit used, in whole percent (for the bar), capped at 100."""
        if self.used is None or not self.permitted:
            return None
        return min(100, round(self.used * 100 / self.permitted))
