"""Exact money: :class:`~decimal.Decimal` with two places, never floats.

Amounts are rounded once, per line, half up to the cent (the way German
invoices round: a line is stated in cents and totals are sums of lines).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
_MONEY = re.compile(r"-?\d+(\.\d{1,2})?")


def parse_money(text: object) -> Decimal:
    """Parse a quoted decimal such as ``"30.00"``.

    Floats are refused: ``0.1`` in YAML is already inexact before it reaches us.
    """
    if isinstance(text, bool) or not isinstance(text, (str, int, Decimal)):
        raise ValueError(f'bad amount {text!r}: write money as a quoted decimal, e.g. "30.00"')
    raw = str(text).strip()
    if not _MONEY.fullmatch(raw):
        raise ValueError(f"bad amount {text!r}: expected a decimal with at most two places")
    try:
        return Decimal(raw).quantize(CENT)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already guards this
        raise ValueError(f"bad amount {text!r}") from exc


def round_cents(amount: Decimal) -> Decimal:
    """Round half up to the cent."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal) -> str:
    """Print an amount with exactly two places, as the catalog writes it."""
    return str(round_cents(amount))
