"""When the provider may act on its own (operations/intervention.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leitstand.operations.intervention import InterventionRule, may_intervene

# seed 001 §5.2 "mehr als 3 Tage nach Alarm oder Anfrage ohne Antwort"
MSP = InterventionRule(no_answer_for=timedelta(days=3))
BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def maybe(text: str | None) -> datetime | None:
    return None if text is None else at(text)


@pytest.mark.parametrize(
    ("alarm_at", "moment", "answered_at", "danger", "expected"),
    [
        # managedhosting.yaml
        ("2026-11-02T10:00:00+01:00", "2026-11-05T10:00:00+01:00", None, False, False),
        ("2026-11-02T10:00:00+01:00", "2026-11-05T10:01:00+01:00", None, False, True),
        (
            "2026-11-02T10:00:00+01:00",
            "2026-11-06T10:00:00+01:00",
            "2026-11-03T09:00:00+01:00",
            False,
            False,
        ),
        ("2026-11-02T10:00:00+01:00", "2026-11-02T10:05:00+01:00", None, True, True),
    ],
)
def test_scenario_interventions(
    alarm_at: str, moment: str, answered_at: str | None, danger: bool, expected: bool
) -> None:
    answered = maybe(answered_at)
    assert may_intervene(MSP, at(alarm_at), at(moment), answered_at=answered, danger=danger) is (
        expected
    )


@pytest.mark.parametrize(
    ("alarm_at", "moment", "answered_at", "danger", "expected"),
    [
        # One microsecond more than 3 days is more than 3 days.
        ("2026-11-02T10:00:00+01:00", "2026-11-05T10:00:00.000001+01:00", None, False, True),
        # An answer that comes only after ``at`` does not block action at ``at``.
        (
            "2026-11-02T10:00:00+01:00",
            "2026-11-06T10:00:00+01:00",
            "2026-11-07T09:00:00+01:00",
            False,
            True,
        ),
        # An answer exactly at ``at`` blocks it.
        (
            "2026-11-02T10:00:00+01:00",
            "2026-11-06T10:00:00+01:00",
            "2026-11-06T10:00:00+01:00",
            False,
            False,
        ),
        # Danger overrides an answer too (Gefahr im Verzug).
        (
            "2026-11-02T10:00:00+01:00",
            "2026-11-02T10:05:00+01:00",
            "2026-11-02T10:01:00+01:00",
            True,
            True,
        ),
        # Before the alarm nothing has gone unanswered.
        ("2026-11-02T10:00:00+01:00", "2026-11-01T10:00:00+01:00", None, False, False),
        # The same moments in different offsets.
        ("2026-11-02T09:00:00+00:00", "2026-11-05T10:00:00+01:00", None, False, False),
        ("2026-11-02T09:00:00+00:00", "2026-11-05T10:01:00+01:00", None, False, True),
    ],
)
def test_edge_interventions(
    alarm_at: str, moment: str, answered_at: str | None, danger: bool, expected: bool
) -> None:
    answered = maybe(answered_at)
    assert may_intervene(MSP, at(alarm_at), at(moment), answered_at=answered, danger=danger) is (
        expected
    )


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # Alarm Friday 27 March 10:00 CET; the clocks go forward on Sunday.
        # Three days are 72 real hours: Monday 11:00 CEST, not 10:00.
        (datetime(2026, 3, 30, 10, 0, tzinfo=BERLIN), False),
        (datetime(2026, 3, 30, 11, 0, tzinfo=BERLIN), False),
        (datetime(2026, 3, 30, 11, 1, tzinfo=BERLIN), True),
    ],
)
def test_three_days_are_real_time_across_the_clock_change(moment: datetime, expected: bool) -> None:
    alarm = datetime(2026, 3, 27, 10, 0, tzinfo=BERLIN)
    assert may_intervene(MSP, alarm, moment) is expected


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        may_intervene(MSP, datetime(2026, 11, 2, 10, 0), datetime(2026, 11, 6, 10, 0))


def test_negative_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        InterventionRule(no_answer_for=timedelta(days=-1))


offsets = st.timedeltas(min_value=timedelta(days=-10), max_value=timedelta(days=10))


@given(offsets, offsets)
def test_an_answer_by_then_always_blocks_and_danger_always_allows(
    elapsed: timedelta, answer: timedelta
) -> None:
    alarm = datetime(2026, 11, 2, 10, 0, tzinfo=BERLIN)
    now = alarm + elapsed
    answered = alarm + answer
    result = may_intervene(MSP, alarm, now, answered_at=answered)
    if answered.astimezone(ZoneInfo("UTC")) <= now.astimezone(ZoneInfo("UTC")):
        assert result is False
    else:
        assert result is (elapsed > timedelta(days=3))
    assert may_intervene(MSP, alarm, now, answered_at=answered, danger=True) is True
