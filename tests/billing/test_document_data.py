"""What goes into an invoice document: the buyer's e-mail and reference, the texts in
the customer's language, the notes the law asks for; long invoices run over pages."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pypdf
import pytest
from django.utils import timezone
from tests.billing.conftest import MakeDraft
from tests.conftest import Tenant

from leitstand.billing import actions, documents
from leitstand.billing.invoicing import Line
from leitstand.billing.models import BillingProfile
from leitstand.contracts.models import Contact, VerifiedEmail

pytestmark = pytest.mark.django_db
D = Decimal
SERVER = Line("Managed Server", D(1), "month", D("99.00"), D(19), "fee")


def with_address(tenant: Tenant, **kw: str) -> None:
    customer = tenant.customer
    customer.street, customer.postcode, customer.city = "Weg 2", "10115", "Berlin"
    for key, value in kw.items():
        setattr(customer, key, value)
    customer.save()


def test_the_billing_contact_is_preferred_as_buyer_address(customer_a: Tenant) -> None:
    billing = Contact.objects.create(customer=customer_a.customer, name="AP", is_billing=True)
    VerifiedEmail.objects.create(contact=billing, address="ap@c90001.example")
    assert documents.buyer_email(customer_a.customer) == "ap@c90001.example"
    BillingProfile.objects.create(customer=customer_a.customer, invoice_email="inv@c90001.example")
    assert documents.buyer_email(customer_a.customer) == "inv@c90001.example"


def test_a_verified_address_is_preferred_over_an_unverified_one(customer_a: Tenant) -> None:
    other = Contact.objects.create(customer=customer_a.customer, name="Tech")
    VerifiedEmail.objects.create(
        contact=other, address="tech@c90001.example", verified_at=timezone.now()
    )
    assert documents.buyer_email(customer_a.customer) == "tech@c90001.example"


def test_a_customer_without_any_address_has_no_buyer_email(customer_b: Tenant) -> None:
    VerifiedEmail.objects.filter(contact__customer=customer_b.customer).delete()
    assert documents.buyer_email(customer_b.customer) == ""


def test_an_empty_leitweg_id_falls_back_to_the_customer_number(customer_a: Tenant) -> None:
    BillingProfile.objects.create(customer=customer_a.customer, buyer_reference="")
    assert documents.buyer_reference(customer_a.customer) == "C90001"


def test_invoice_data_of_a_german_customer(customer_a: Tenant, draft: MakeDraft) -> None:
    with_address(customer_a)
    invoice = actions.finalise(draft(customer_a.customer, [SERVER]), date(2026, 12, 1))
    with documents._language(invoice):
        data = documents.invoice_data(invoice)
    assert data.number == invoice.number
    assert (data.issued_on, data.due_on) == (date(2026, 12, 1), date(2026, 12, 15))
    assert "15.12.2026" in data.payment_terms
    assert data.seller.name == documents.seller().name
    assert (data.buyer.name, data.buyer.identifier) == ("Alpha GmbH", "C90001")
    assert (data.net_total, data.vat_total, data.gross_total) == (
        D("99.00"),
        D("18.81"),
        D("117.81"),
    )
    assert not data.credit_note


def test_a_draft_gets_a_draft_number_and_is_not_stored(
    customer_a: Tenant, draft: MakeDraft
) -> None:
    invoice = draft(customer_a.customer, [SERVER])
    data = documents.invoice_data(invoice, draft=True)
    assert data.number.endswith(f"-{invoice.pk}")
    with pytest.raises(documents.DocumentError, match="final invoices only"):
        documents.store_documents(invoice)


def test_not_taxable_invoices_say_why(customer_a: Tenant, draft: MakeDraft) -> None:
    with_address(customer_a, country="CH", vat_id="CHE-123.456.789", language="en")
    items = [Line("Managed Server", D(1), "month", D("99.00"), D(0), "fee")]
    invoice = actions.finalise(
        draft(customer_a.customer, items, treatment="not_taxable"), date(2026, 12, 1)
    )
    pdf = bytes(documents.stored(invoice, "pdf").content)  # type: ignore[union-attr]
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Not taxable in Germany (§ 3a Abs. 2 UStG)." in text
    xml = bytes(documents.stored(invoice, "facturx").content)  # type: ignore[union-attr]
    assert b"<ram:CategoryCode>O</ram:CategoryCode>" in xml
    assert b"CHE-123.456.789" not in xml  # BR-O-02


def test_a_long_invoice_runs_over_pages_with_page_numbers(
    customer_a: Tenant, draft: MakeDraft
) -> None:
    with_address(customer_a)
    items = [
        Line(f"T-{i}: it_support ({i} min)", D(2), "15 min", D("35.00"), D(19), "time")
        for i in range(1, 80)
    ]
    invoice = actions.finalise(draft(customer_a.customer, items), date(2026, 12, 1))
    pdf = bytes(documents.stored(invoice, "pdf").content)  # type: ignore[union-attr]
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) >= 2
    last = pages[-1].extract_text()
    assert f"{len(pages)} / {len(pages)}" in last
    assert "T-79: it_support (79 min)" in "\n".join(p.extract_text() for p in pages)
    assert invoice.net_total == D("5530.00")


def test_the_xrechnung_carries_the_seller_contact_from_the_settings(
    customer_a: Tenant, draft: MakeDraft, settings: object
) -> None:
    settings.BILLING_SELLER = {  # type: ignore[attr-defined]
        "name": "cloudflux GmbH",
        "contact_name": "Frau Buchhalterin",
        "phone": "+49 711 000",
        "email": "rechnung@cloudflux.example",
        "iban": "DE89 3704 0044 0532 0130 00",
    }
    with_address(customer_a)
    invoice = actions.finalise(draft(customer_a.customer, [SERVER]), date(2026, 12, 1))
    xml = bytes(documents.stored(invoice, "xrechnung").content)  # type: ignore[union-attr]
    assert b"<ram:Name>cloudflux GmbH</ram:Name>" in xml
    assert b"<ram:PersonName>Frau Buchhalterin</ram:PersonName>" in xml
    assert b"<ram:IBANID>DE89370400440532013000</ram:IBANID>" in xml
    pdf = bytes(documents.stored(invoice, "pdf").content)  # type: ignore[union-attr]
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Demo" not in text
