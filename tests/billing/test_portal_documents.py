"""The customer downloads the stored documents of its own final invoices, and nothing else."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from tests.billing.conftest import MakeDraft
from tests.conftest import Tenant

from leitstand.billing import actions
from leitstand.billing.invoicing import Line
from leitstand.billing.models import Invoice, InvoiceDocument

pytestmark = pytest.mark.django_db
SERVER = Line("Managed Server", Decimal(1), "month", Decimal("99.00"), Decimal(19), "fee")


def final(tenant: Tenant, draft: MakeDraft) -> Invoice:
    customer = tenant.customer
    customer.street, customer.postcode, customer.city = "Weg 2", "10115", "Berlin"
    customer.save()
    return actions.finalise(draft(customer, [SERVER]), date(2026, 12, 1))


def test_own_pdf_and_xml_are_the_stored_bytes(
    client: Client, customer_a: Tenant, draft: MakeDraft
) -> None:
    invoice = final(customer_a, draft)
    client.force_login(customer_a.user)
    pdf = client.get(f"/portal/invoices/{invoice.number}/pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    stored = invoice.documents.get(kind="pdf")
    assert pdf.content == bytes(stored.content)
    assert pdf["X-Content-SHA256"] == hashlib.sha256(pdf.content).hexdigest()
    xml = client.get(f"/portal/invoices/{invoice.number}/xml")
    assert xml.status_code == 200
    assert xml["Content-Type"] == "application/xml"
    assert xml.content == bytes(invoice.documents.get(kind="xrechnung").content)


def test_without_xrechnung_the_xml_is_the_factur_x(
    client: Client, customer_a: Tenant, draft: MakeDraft
) -> None:
    invoice = final(customer_a, draft)
    InvoiceDocument.objects.filter(invoice=invoice, kind="xrechnung").delete()
    client.force_login(customer_a.user)
    xml = client.get(f"/portal/invoices/{invoice.number}/xml")
    assert xml.content == bytes(invoice.documents.get(kind="facturx").content)
    assert xml["Content-Disposition"].endswith('-factur-x.xml"')


def test_other_customers_and_drafts_answer_404(
    client: Client, customer_a: Tenant, customer_b: Tenant, draft: MakeDraft
) -> None:
    other = final(customer_b, draft)
    own_draft = draft(customer_a.customer, [SERVER], month=10)
    client.force_login(customer_a.user)
    for kind in ("pdf", "xml"):
        assert client.get(f"/portal/invoices/{other.number}/{kind}").status_code == 404
        assert client.get(f"/portal/invoices/RE-2099-99999/{kind}").status_code == 404
        assert client.get(f"/portal/invoices/{own_draft.pk}/{kind}").status_code == 404


def test_staff_and_anonymous_users_get_no_portal_documents(
    client: Client, customer_a: Tenant, staff_user: object, draft: MakeDraft
) -> None:
    invoice = final(customer_a, draft)
    response = client.get(f"/portal/invoices/{invoice.number}/pdf")
    assert response.status_code == 302
    client.force_login(staff_user)  # type: ignore[arg-type]
    assert client.get(f"/portal/invoices/{invoice.number}/pdf").status_code == 404


def test_an_invoice_finalised_before_documents_existed_gets_them_once(
    client: Client, customer_a: Tenant, draft: MakeDraft
) -> None:
    invoice = final(customer_a, draft)
    InvoiceDocument.objects.filter(invoice=invoice).delete()
    client.force_login(customer_a.user)
    first = client.get(f"/portal/invoices/{invoice.number}/pdf")
    second = client.get(f"/portal/invoices/{invoice.number}/pdf")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert invoice.documents.filter(kind="pdf").count() == 1


def test_the_invoice_page_links_the_downloads(
    client: Client, customer_a: Tenant, draft: MakeDraft
) -> None:
    invoice = final(customer_a, draft)
    client.force_login(customer_a.user)
    page = client.get(f"/portal/invoices/{invoice.number}/").content.decode()
    assert f"/portal/invoices/{invoice.number}/pdf" in page
    assert f"/portal/invoices/{invoice.number}/xml" in page


@pytest.mark.parametrize(
    ("language", "total", "line"),
    [
        ("de", "2.974,05 EUR", "2.499,20"),
        ("en", "2,974.05 EUR", "2,499.20"),
    ],
)
def test_amounts_in_the_users_language_with_grouping(
    client: Client,
    customer_a: Tenant,
    draft: MakeDraft,
    language: str,
    total: str,
    line: str,
) -> None:
    """Issue 8: "dates and money in the user's locale"."""
    migration = Line("Migration", Decimal(1), "flat", Decimal("2499.20"), Decimal(19), "work")
    customer = customer_a.customer
    customer.street, customer.postcode, customer.city = "Weg 2", "10115", "Berlin"
    customer.save()
    invoice = actions.finalise(draft(customer, [migration]), date(2026, 12, 1))
    assert invoice.gross_total == Decimal("2974.05")
    customer_a.user.language = language
    customer_a.user.save()
    client.force_login(customer_a.user)
    listing = client.get("/portal/invoices/").content.decode()
    assert total in listing
    page = client.get(f"/portal/invoices/{invoice.number}/").content.decode()
    assert total in page
    assert f"<td>{line}</td>" in page
