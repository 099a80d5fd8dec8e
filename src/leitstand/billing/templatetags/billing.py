"""Template filters of the billing pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def minutes(seconds: int | None) -> str:
    """Recorded seconds as whole and fractional minutes: 1830 -> "30.5"."""
    if seconds is None:
        return ""
    whole, rest = divmod(int(seconds), 60)
    tenths = rest * 10 // 60
    return f"{whole}.{tenths}" if tenths else f"{whole}"
