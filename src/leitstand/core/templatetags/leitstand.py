"""Template filters shared by back office and portal."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def plain(value: Decimal | None) -> str:
    """A decimal without trailing zeros and never in exponent form: 70, 0.5, 19."""
    if value is None:
        return ""
    return format(Decimal(value).normalize(), "f")
