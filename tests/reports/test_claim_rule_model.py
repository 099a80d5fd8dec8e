"""The stored claim rule: its compensation scale is checked before it is saved."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from leitstand.reports.claims import CreditTier
from leitstand.reports.models import ClaimRule

pytestmark = pytest.mark.django_db


def rule(**fields: object) -> ClaimRule:
    return ClaimRule(name="r", window_days=14, requires_reported_incident=True, **fields)


def test_the_default_scale() -> None:
    compensation = rule().to_compensation_rule()
    assert compensation.target == Decimal("99.9")
    assert compensation.cap == Decimal("50")
    assert compensation.tiers == (
        CreditTier(Decimal("99.9"), Decimal("10")),
        CreditTier(Decimal("99.5"), Decimal("25")),
        CreditTier(Decimal("99"), Decimal("50")),
    )
    rule().full_clean()


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        ("99.9", "must be a list"),
        ([{"below": "99"}], "bad tier"),
        ([{"below": "99", "credit": "10", "extra": 1}], "bad tier"),
        ([{"below": "abc", "credit": "10"}], "must be numbers"),
        ([{"below": "99.99", "credit": "10"}], "target"),
        ([{"below": "99", "credit": "10"}, {"below": "98", "credit": "5"}], "smaller"),
    ],
)
def test_a_bad_scale_is_refused_with_the_reason(tiers: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        rule(credit_tiers=tiers).full_clean()


def test_an_empty_scale_pays_nothing_but_is_valid() -> None:
    rule(credit_tiers=[]).full_clean()
    assert rule(credit_tiers=[]).to_compensation_rule().tiers == ()
