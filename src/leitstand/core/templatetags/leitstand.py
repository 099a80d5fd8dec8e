"""Template filters shared by back office and portal."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats

register = template.Library()


@register.filter
def plain(value: Decimal | None) -> str:
    """A decimal without trailing zeros and never in exponent form: 70, 0.5, 19."""
    if value is None:
        return ""
    return format(Decimal(value).normalize(), "f")


def amount(value: Decimal) -> str:
    """Money in the active language, two places and grouped: 1.234,50 in
    German, 1,234.50 in English (issue 8: "dates and money in the user's
    locale"). The PDF invoice uses the same function."""
    return formats.number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)


@register.filter
def money(value: Decimal | str | None) -> str:
    """:func:`amount` for templates; empty for None, anything else unchanged."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    return amount(number)
