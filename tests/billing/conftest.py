"""Helpers of the billing tests: drafts with given lines, without the whole invoice run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import pytest

from leitstand.billing import invoicing
from leitstand.billing.models import Invoice, InvoiceLine
from leitstand.contracts.models import Customer

MakeDraft = Callable[..., Invoice]


def make_draft(
    customer: Customer,
    items: Sequence[invoicing.Line],
    *,
    month: int = 11,
    treatment: str = "standard",
) -> Invoice:
    """A draft of ``items`` stored exactly as the invoice run stores its lines."""
    first, last = invoicing.month_bounds(2026, month)
    sums = invoicing.totals(items)
    invoice = Invoice.objects.create(
        customer=customer,
        period_start=first,
        period_end=last,
        vat_treatment=treatment,
        net_total=sums.net,
        vat_total=sums.vat,
        gross_total=sums.gross,
    )
    for position, (item, vat) in enumerate(zip(items, sums.line_vat, strict=True), start=1):
        InvoiceLine.objects.create(
            invoice=invoice,
            position=position,
            kind=item.kind,
            description=item.description,
            quantity=item.quantity,
            unit=item.unit,
            unit_price=item.unit_price,
            vat_rate=item.vat_rate,
            net=item.net,
            vat=vat,
            included=item.included,
            reference=item.reference,
        )
    return invoice


@pytest.fixture
def draft() -> MakeDraft:
    """``draft(customer, lines, month=11, treatment="standard")``."""
    return make_draft


@pytest.fixture
def issued_on() -> date:
    return date(2026, 12, 1)
