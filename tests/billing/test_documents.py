"""Documents of final invoices: made at finalisation, stored with their SHA-256, never
rendered again; a PDF/A-3 with the Factur-X XML inside that states what § 14 UStG
requires, in the customer's language; nothing is fetched from the network."""

from __future__ import annotations

import hashlib
import io
from datetime import date
from decimal import Decimal

import facturx
import pypdf
import pytest
from django.db import connection
from tests.billing.conftest import MakeDraft
from tests.conftest import Tenant

from leitstand.billing import actions, documents, einvoice
from leitstand.billing.invoicing import Line
from leitstand.billing.models import (
    BillingProfile,
    FinalInvoiceError,
    Invoice,
    InvoiceDocument,
    InvoiceSequence,
)

pytestmark = pytest.mark.django_db
D = Decimal
SERVER = Line("Managed Server (web01)", D(1), "month", D("1234.56"), D(19), "fee")
SUPPORT = Line(
    "T-1: it_support (31 min)", D(3), "15 min", D("35.00"), D(19), "time", reference="T-1"
)


def address(tenant: Tenant, country: str = "DE", vat_id: str = "", language: str = "de") -> None:
    customer = tenant.customer
    customer.street, customer.postcode, customer.city = "Weg 2", "10115", "Berlin"
    customer.country, customer.vat_id, customer.language = country, vat_id, language
    customer.save()


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_finalising_stores_pdf_and_both_xmls_with_their_hashes(
    customer_a: Tenant, draft: MakeDraft
) -> None:
    address(customer_a)
    invoice = actions.finalise(draft(customer_a.customer, [SERVER, SUPPORT]), date(2026, 12, 1))
    stored = {d.kind: d for d in invoice.documents.all()}
    assert set(stored) == {"pdf", "facturx", "xrechnung"}
    for document in stored.values():
        assert document.sha256 == hashlib.sha256(bytes(document.content)).hexdigest()
    assert bytes(stored["pdf"].content).startswith(b"%PDF-")


def test_the_pdf_is_pdf_a_3_with_the_stored_factur_x_xml_inside(
    customer_a: Tenant, draft: MakeDraft
) -> None:
    address(customer_a)
    invoice = actions.finalise(draft(customer_a.customer, [SERVER, SUPPORT]), date(2026, 12, 1))
    pdf = bytes(documents.stored(invoice, "pdf").content)  # type: ignore[union-attr]
    name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    assert name == "factur-x.xml"
    assert xml == bytes(documents.stored(invoice, "facturx").content)  # type: ignore[union-attr]
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    metadata = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b"<pdfaid:part>3</pdfaid:part>" in metadata
    assert b"fx:ConformanceLevel>EN 16931<" in metadata
    assert einvoice.business_rule_errors(xml) == []


def test_the_pdf_states_what_section_14_ustg_requires(
    customer_a: Tenant, draft: MakeDraft, settings: object
) -> None:
    address(customer_a)
    invoice = actions.finalise(draft(customer_a.customer, [SERVER, SUPPORT]), date(2026, 12, 1))
    text = pdf_text(bytes(documents.stored(invoice, "pdf").content))  # type: ignore[union-attr]
    seller = documents.seller()
    for expected in [
        seller.name,
        seller.street,
        f"{seller.postcode} {seller.city}",
        seller.vat_id,
        seller.tax_number,
        "Alpha GmbH",
        "Weg 2",
        "10115 Berlin",
        invoice.number,
        "01.12.2026",  # issue date, German format
        "01.11.2026 – 30.11.2026",  # service period
        "Managed Server (web01)",
        "T-1: it_support (31 min)",
        "1.234,56",  # unit price and net with German separators
        "19 %",
        "1.339,56",  # net total
        "254,52",  # VAT 19 %
        "1.594,08",  # gross
        seller.iban,
    ]:
        assert expected in text, expected
    assert invoice.net_total == D("1339.56")
    assert invoice.vat_total == D("254.52")


def test_english_customers_get_an_english_invoice(customer_a: Tenant, draft: MakeDraft) -> None:
    address(customer_a, language="en")
    invoice = actions.finalise(draft(customer_a.customer, [SERVER]), date(2026, 12, 1))
    text = pdf_text(bytes(documents.stored(invoice, "pdf").content))  # type: ignore[union-attr]
    assert "Invoice number" in text
    assert "1,234.56" in text
    assert "12/01/2026" in text


def test_reverse_charge_names_the_buyers_vat_id_and_the_legal_words(
    customer_a: Tenant, draft: MakeDraft
) -> None:
    address(customer_a, country="NL", vat_id="NL123456789B01")
    items = [Line("Managed Server", D(1), "month", D("99.00"), D(0), "fee")]
    invoice = actions.finalise(
        draft(customer_a.customer, items, treatment="reverse_charge"), date(2026, 12, 1)
    )
    text = pdf_text(bytes(documents.stored(invoice, "pdf").content))  # type: ignore[union-attr]
    assert "Steuerschuldnerschaft des Leistungsempfängers" in text
    assert "NL123456789B01" in text
    xml = bytes(documents.stored(invoice, "facturx").content)  # type: ignore[union-attr]
    assert b"<ram:CategoryCode>AE</ram:CategoryCode>" in xml
    assert b"VATEX-EU-AE" in xml


def test_a_credit_note_refers_to_the_invoice_it_corrects(
    customer_a: Tenant, draft: MakeDraft
) -> None:
    address(customer_a)
    invoice = actions.finalise(draft(customer_a.customer, [SERVER]), date(2026, 12, 1))
    note = actions.credit_note(invoice, [("Ausfall 3. November", D("100.00"))], date(2026, 12, 5))
    assert (note.net_total, note.vat_total, note.gross_total) == (
        D("-100.00"),
        D("-19.00"),
        D("-119.00"),
    )
    xml = bytes(documents.stored(note, "facturx").content)  # type: ignore[union-attr]
    assert b"<ram:TypeCode>381</ram:TypeCode>" in xml
    assert f"<ram:IssuerAssignedID>{invoice.number}</ram:IssuerAssignedID>".encode() in xml
    assert b"<ram:GrandTotalAmount>119.00</ram:GrandTotalAmount>" in xml
    text = pdf_text(bytes(documents.stored(note, "pdf").content))  # type: ignore[union-attr]
    assert invoice.number in text  # type: ignore[operator]
    assert "01.12.2026" in text  # the corrected invoice's date


def test_an_empty_invoice_still_gets_valid_documents(customer_a: Tenant) -> None:
    empty = Invoice.objects.create(
        customer=customer_a.customer,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        vat_treatment="standard",
    )
    invoice = actions.finalise(empty, date(2026, 12, 1))
    xml = bytes(documents.stored(invoice, "facturx").content)  # type: ignore[union-attr]
    assert documents.check(xml, einvoice.FACTURX) == []


def test_documents_are_never_rendered_again(customer_a: Tenant, draft: MakeDraft) -> None:
    address(customer_a)
    invoice = actions.finalise(draft(customer_a.customer, [SERVER]), date(2026, 12, 1))
    before = {d.kind: d.sha256 for d in invoice.documents.all()}
    # The seller moves; the invoice that was sent does not change.
    customer_a.customer.name = "Alpha Renamed GmbH"
    customer_a.customer.save()
    assert documents.store_documents(invoice) == []
    assert actions.finalise(invoice) == invoice
    assert {d.kind: d.sha256 for d in invoice.documents.all()} == before
    document = invoice.documents.get(kind="pdf")
    document.content = b"%PDF- forged"
    with pytest.raises(FinalInvoiceError):
        document.save()


def test_a_tampered_document_is_detected(customer_a: Tenant, draft: MakeDraft) -> None:
    address(customer_a)
    invoice = actions.finalise(draft(customer_a.customer, [SERVER]), date(2026, 12, 1))
    InvoiceDocument.objects.filter(invoice=invoice, kind="facturx").update(content=b"<x/>")
    with pytest.raises(documents.DocumentError, match="SHA-256"):
        documents.stored(invoice, "facturx")


def test_an_invoice_that_cannot_be_a_valid_e_invoice_stays_a_draft(
    customer_a: Tenant, draft: MakeDraft, settings: object
) -> None:
    settings.BILLING_SELLER = {"vat_id": " ", "tax_number": " "}  # type: ignore[attr-defined]
    address(customer_a)
    invoice = draft(customer_a.customer, [SERVER])
    with pytest.raises(documents.DocumentError, match="BR-S-02"):
        actions.finalise(invoice, date(2026, 12, 1))
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == (Invoice.Status.DRAFT, None)
    assert not InvoiceSequence.objects.filter(year=2026, last__gt=0).exists()
    assert not InvoiceDocument.objects.exists()


def test_xrechnung_is_stored_only_when_the_invoice_can_be_one(
    customer_a: Tenant, draft: MakeDraft
) -> None:
    # No postcode: a valid Factur-X, but BR-DE-9 rules out XRechnung.
    customer = customer_a.customer
    customer.street, customer.city = "Weg 2", "Berlin"
    customer.save()
    invoice = actions.finalise(draft(customer, [SERVER]), date(2026, 12, 1))
    assert set(invoice.documents.values_list("kind", flat=True)) == {"pdf", "facturx"}
    assert any("BR-DE-9" in p for p in documents.problems(invoice, einvoice.XRECHNUNG))


def test_the_leitweg_id_and_invoice_email_of_the_billing_profile_are_used(
    customer_a: Tenant, draft: MakeDraft
) -> None:
    address(customer_a)
    BillingProfile.objects.create(
        customer=customer_a.customer,
        buyer_reference="991-12345-67",
        invoice_email="rechnung@alpha.example",
    )
    invoice = actions.finalise(draft(customer_a.customer, [SERVER]), date(2026, 12, 1))
    xml = bytes(documents.stored(invoice, "xrechnung").content)  # type: ignore[union-attr]
    assert b"<ram:BuyerReference>991-12345-67</ram:BuyerReference>" in xml
    assert b'schemeID="EM">rechnung@alpha.example<' in xml
    assert b"xrechnung_3.0" in xml


def test_without_a_profile_the_customer_number_and_a_contacts_address_serve(
    customer_a: Tenant, draft: MakeDraft
) -> None:
    address(customer_a)
    invoice = actions.finalise(draft(customer_a.customer, [SERVER]), date(2026, 12, 1))
    xml = bytes(documents.stored(invoice, "xrechnung").content)  # type: ignore[union-attr]
    assert b"<ram:BuyerReference>C90001</ram:BuyerReference>" in xml
    assert b'schemeID="EM">alice@c90001.example<' in xml


def test_rendering_fetches_nothing_from_the_network(customer_a: Tenant, draft: MakeDraft) -> None:
    from weasyprint import HTML  # type: ignore[import-untyped]
    from weasyprint.urls import FatalURLFetchingError  # type: ignore[import-untyped]

    html = '<html><body><img src="http://127.0.0.1:9/logo.png"></body></html>'
    with pytest.raises(FatalURLFetchingError, match="fetch nothing"):
        HTML(string=html, url_fetcher=documents.no_fetching()).write_pdf()
    inline = '<html><body><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></body></html>'
    assert HTML(string=inline, url_fetcher=documents.no_fetching()).write_pdf()


def test_a_draft_preview_is_marked_and_not_stored(customer_a: Tenant, draft: MakeDraft) -> None:
    address(customer_a)
    invoice = draft(customer_a.customer, [SERVER])
    text = pdf_text(documents.render_pdf(invoice, draft=True))
    assert "DRAFT" in text or "ENTWURF" in text
    assert not InvoiceDocument.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_finalisation_with_documents_keeps_numbers_gapless_under_concurrency(
    customer_a: Tenant, draft: MakeDraft
) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers anyway; the race needs PostgreSQL")
    import threading

    address(customer_a)
    drafts = [draft(customer_a.customer, [SERVER], month=m) for m in range(1, 7)]
    errors: list[BaseException] = []

    def worker(items: list[Invoice]) -> None:
        try:
            for item in items:
                actions.finalise(item, date(2026, 12, 1))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(drafts[i::3],)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"RE-2026-{n:05d}" for n in range(1, 7)]
    assert InvoiceDocument.objects.filter(kind="pdf").count() == 6
