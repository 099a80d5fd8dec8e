"""Corrections of drafts keep the invoice consistent: whatever staff change, the
totals are the sums of the lines, the VAT of each rate is its net times the rate
(EN 16931 BR-CO-17), and the e-invoice of the corrected draft is valid."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.billing.conftest import make_draft
from tests.conftest import Tenant

from leitstand.billing import documents, einvoice, review
from leitstand.billing.invoicing import Line
from leitstand.billing.models import Invoice, LineChange

pytestmark = pytest.mark.django_db
D = Decimal
CENT = D("0.01")


def consistent(invoice: Invoice) -> None:
    invoice.refresh_from_db()
    lines = list(invoice.lines.order_by("position"))
    assert [line.position for line in lines] == list(range(1, len(lines) + 1))
    assert invoice.net_total == sum((line.net for line in lines), D("0.00"))
    assert invoice.vat_total == sum((line.vat for line in lines), D("0.00"))
    assert invoice.gross_total == invoice.net_total + invoice.vat_total
    rates = {line.vat_rate for line in lines}
    for rate in rates:
        basis = sum((line.net for line in lines if line.vat_rate == rate), D(0))
        tax = sum((line.vat for line in lines if line.vat_rate == rate), D(0))
        assert tax == (basis * rate / 100).quantize(CENT, rounding="ROUND_HALF_UP")


amounts = st.decimals(min_value=D("-100"), max_value=D("1000"), places=2)
quantities = st.decimals(min_value=D("0"), max_value=D("40"), places=3)
edits = st.lists(
    st.one_of(
        st.tuples(st.just("edit"), st.integers(1, 6), quantities, amounts),
        st.tuples(st.just("remove"), st.integers(1, 6), st.just(D(0)), st.just(D(0))),
    ),
    max_size=6,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(quantities, amounts, st.sampled_from([D(19), D(7)])), min_size=1, max_size=6
    ),
    edits,
)
def test_any_sequence_of_corrections_keeps_the_invoice_consistent(
    customer_a: Tenant,
    items: list[tuple[Decimal, Decimal, Decimal]],
    changes: list[tuple[str, int, Decimal, Decimal]],
) -> None:
    Invoice.objects.filter(customer=customer_a.customer).delete()
    customer = customer_a.customer
    customer.street, customer.postcode, customer.city = "Weg 2", "10115", "Berlin"
    customer.save()
    lines = [Line(f"item {i}", q, "item", p, r, "fee") for i, (q, p, r) in enumerate(items)]
    invoice = make_draft(customer, lines)
    consistent(invoice)
    for action, position, quantity, price in changes:
        try:
            if action == "edit":
                review.edit_line(
                    invoice,
                    position,
                    description=f"changed {position}",
                    quantity=quantity,
                    unit_price=price,
                    reason="property test",
                    user=None,
                )
            else:
                review.remove_line(invoice, position, reason="property test", user=None)
        except review.ReviewError:
            assert position > invoice.lines.count()
        consistent(invoice)
    xml = documents.xml(invoice, einvoice.FACTURX)
    assert documents.check(xml, einvoice.FACTURX) == []


def test_setting_a_price_on_an_included_line_charges_it(customer_a: Tenant) -> None:
    included = Line("T-1: basic (4 min)", D(1), "task", D(0), D(19), "time", True)
    invoice = make_draft(customer_a.customer, [included])
    review.edit_line(
        invoice,
        1,
        description="T-1: basic (4 min)",
        quantity=D(1),
        unit_price=D("10.00"),
        reason="not included after all",
        user=None,
    )
    line = invoice.lines.get()
    assert (line.included, line.net, line.vat) == (False, D("10.00"), D("1.90"))


def test_final_invoices_and_blank_reasons_are_refused(customer_a: Tenant) -> None:
    invoice = make_draft(customer_a.customer, [Line("a", D(1), "item", D(5), D(19), "fee")])
    with pytest.raises(review.ReviewError, match="reason"):
        review.remove_line(invoice, 1, reason="  ", user=None)
    Invoice.objects.filter(pk=invoice.pk).update(status="final", number="RE-2026-09999")
    with pytest.raises(review.ReviewError, match="credit note"):
        review.edit_line(
            invoice, 1, description="b", quantity=D(1), unit_price=D(1), reason="r", user=None
        )
    assert not LineChange.objects.exists()
