"""Template filters for the monitoring pages: state labels, durations, percentages."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from django import template
from django.utils import formats

from leitstand.monitoring.states import Status
from leitstand.staff.monitoring import STATE_LABELS

register = template.Library()


@register.filter
def state_label(value: str) -> str:
    """The translated name of a check state; an unknown value is shown as it is."""
    try:
        return str(STATE_LABELS[Status(value)])
    except ValueError:
        return value


@register.filter
def hms(value: timedelta) -> str:
    """A duration as hours:minutes:seconds, hours not wrapped into days (``73:04:05``).

    Availability periods are compared with each other; one unit reads faster
    than a mix of days and hours.
    """
    total = int(value.total_seconds())
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


@register.filter
def percent(ratio: float | None, digits: int = 3) -> str:
    """A ratio (0..1) as a localised percentage with ``digits`` decimals; "–" for none.

    Cut off, never rounded up: 99.9996 % must not read "100.000 %" on a page
    that decides whether an SLA was kept. Decimal from the shortest repr, so
    that 0.9995 is 99.950 and not the float's 99.94999...
    """
    if ratio is None:
        return "–"
    value = (Decimal(repr(ratio)) * 100).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_DOWN)
    return f"{formats.number_format(value, digits)} %"
