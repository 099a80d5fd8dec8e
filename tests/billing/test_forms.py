"""Back-office input: months, corrections, credit notes and export selections are
checked before any action runs, with a message a person can act on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from leitstand.billing import exports
from leitstand.billing.forms import (
    CreditNoteForm,
    ExportForm,
    LineEditForm,
    LineRemoveForm,
    PeriodForm,
)
from leitstand.billing.templatetags.billing import minutes


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11", date(2026, 11, 1)),
        ("2026-01", date(2026, 1, 1)),
        (" 2026-12 ", date(2026, 12, 1)),
        ("2000-01", date(2000, 1, 1)),
        ("2026-13", None),
        ("2026-00", None),
        ("26-11", None),
        ("2026-11-01", None),
        ("november", None),
        ("1999-12", None),
        ("2101-01", None),
        ("", None),
    ],
)
def test_months_are_yyyy_mm(raw: str, expected: date | None) -> None:
    form = PeriodForm({"month": raw})
    assert form.is_valid() is (expected is not None)
    if expected is None:
        assert form.errors["month"]
    else:
        assert form.cleaned_data["month"] == expected


@pytest.mark.parametrize(
    ("data", "valid"),
    [
        ({"description": "x", "quantity": "2", "unit_price": "35", "reason": "r"}, True),
        ({"description": "x", "quantity": "0.533333", "unit_price": "99.00", "reason": "r"}, True),
        ({"description": "x", "quantity": "-1", "unit_price": "9.90", "reason": "credit"}, True),
        ({"description": "x", "quantity": "2", "unit_price": "35", "reason": ""}, False),
        ({"description": "", "quantity": "2", "unit_price": "35", "reason": "r"}, False),
        ({"description": "x", "quantity": "0.0000001", "unit_price": "35", "reason": "r"}, False),
        ({"description": "x", "quantity": "1e999", "unit_price": "35", "reason": "r"}, False),
        ({"description": "x", "quantity": "NaN", "unit_price": "35", "reason": "r"}, False),
        ({"description": "x", "quantity": "2", "unit_price": "12345678901", "reason": "r"}, False),
        ({"description": "x" * 501, "quantity": "2", "unit_price": "35", "reason": "r"}, False),
    ],
)
def test_line_corrections_are_validated(data: dict[str, str], valid: bool) -> None:
    assert LineEditForm(data).is_valid() is valid


def test_removing_a_line_needs_a_reason() -> None:
    assert not LineRemoveForm({"reason": ""}).is_valid()
    assert LineRemoveForm({"reason": "billed twice"}).is_valid()


@pytest.mark.parametrize(
    ("amount", "limit", "valid"),
    [
        ("10.00", Decimal("99.00"), True),
        ("99.00", Decimal("99.00"), True),
        ("99.01", Decimal("99.00"), False),
        ("0.00", Decimal("99.00"), False),
        ("-5", Decimal("99.00"), False),
        ("1.001", Decimal("99.00"), False),
        ("abc", Decimal("99.00"), False),
        ("5", None, True),
    ],
)
def test_credit_notes_stay_within_what_was_invoiced(
    amount: str, limit: Decimal | None, valid: bool
) -> None:
    form = CreditNoteForm({"description": "goodwill", "amount": amount}, limit=limit)
    assert form.is_valid() is valid


def test_the_credit_limit_is_named_in_the_error() -> None:
    form = CreditNoteForm({"description": "x", "amount": "50"}, limit=Decimal("40.00"))
    assert not form.is_valid()
    assert "40.00" in form.errors["amount"][0]


def test_export_selection() -> None:
    form = ExportForm(
        {
            "start": "2026-10",
            "end": "2026-11",
            "customers": "C10001, C10002;C10003\nC10004",
            "status": "all",
            "dialect": "standard",
        }
    )
    assert form.is_valid(), form.errors
    assert form.customer_numbers() == ["C10001", "C10002", "C10003", "C10004"]
    assert form.statuses() == ["final", "draft"]
    assert form.dialect_() == exports.DIALECTS["standard"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {"start": "2026-12", "end": "2026-11", "status": "final", "dialect": "excel-de"},
            "__all__",
        ),
        ({"start": "2026-11", "end": "2026-11", "status": "paid", "dialect": "excel-de"}, "status"),
        ({"start": "2026-11", "end": "2026-11", "status": "final", "dialect": "xlsx"}, "dialect"),
        ({"end": "2026-11", "status": "final", "dialect": "excel-de"}, "start"),
    ],
)
def test_bad_export_selections_name_the_field(data: dict[str, str], field: str) -> None:
    form = ExportForm(data)
    assert not form.is_valid()
    assert field in form.errors


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, ""),
        (0, "0"),
        (60, "1"),
        (90, "1.5"),
        (1830, "30.5"),
        (3600, "60"),
        (61, "1"),
        (66, "1.1"),
    ],
)
def test_minutes_filter(seconds: int | None, text: str) -> None:
    assert minutes(seconds) == text
