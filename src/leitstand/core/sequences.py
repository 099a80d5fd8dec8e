"""Gapless yearly counters (ticket numbers, invoice numbers)."""

from __future__ import annotations

from typing import Any

from django.db import transaction


def take_next(model: Any, year: int) -> int:
    """The next number of ``year`` from a ``(year, last)`` counter table.

    The row is locked while counting, so concurrent callers get consecutive
    numbers with no gap and no twin; when the caller's transaction rolls back,
    the number is given back with it.
    """
    with transaction.atomic():
        model.objects.get_or_create(year=year)
        row = model.objects.select_for_update().get(year=year)
        row.last += 1
        row.save(update_fields=["last"])
    return int(row.last)
