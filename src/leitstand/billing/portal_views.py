"""Invoice documents in the customer portal: the stored PDF and e-invoice XML.

Only the customer's own final invoices are found (any other number answers
404), and only the bytes stored at finalisation are served: a final invoice is
never rendered again. An invoice finalised before documents existed gets them
once, on first download, from its immutable lines.
"""

from __future__ import annotations

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from leitstand.billing import documents
from leitstand.billing.models import Invoice, InvoiceDocument
from leitstand.contracts.models import Customer
from leitstand.core.access import customer_required


def _own_final_invoice(request: HttpRequest, number: str) -> Invoice:
    customer: Customer = request.customer  # type: ignore[attr-defined]
    return get_object_or_404(Invoice, customer=customer, number=number, status=Invoice.Status.FINAL)


def document_response(invoice: Invoice, kind: str) -> HttpResponse:
    """The stored document as a download (created once if the invoice predates documents)."""
    document = documents.stored(invoice, kind)
    if document is None and not invoice.documents.exists():
        with transaction.atomic():
            locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
            documents.store_documents(locked)
        document = documents.stored(invoice, kind)
    if document is None:
        raise Http404
    content_type = "application/pdf" if kind == InvoiceDocument.Kind.PDF else "application/xml"
    response = HttpResponse(bytes(document.content), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{documents.filename(invoice, kind)}"'
    response["X-Content-SHA256"] = document.sha256
    response["Cache-Control"] = "private, max-age=0"
    return response


@customer_required
def invoice_pdf(request: HttpRequest, number: str) -> HttpResponse:
    """The invoice PDF (PDF/A-3 with the embedded Factur-X XML)."""
    return document_response(_own_final_invoice(request, number), InvoiceDocument.Kind.PDF)


@customer_required
def invoice_xml(request: HttpRequest, number: str) -> HttpResponse:
    """The e-invoice XML: XRechnung when the invoice can be one, else Factur-X (EN 16931)."""
    invoice = _own_final_invoice(request, number)
    if invoice.documents.filter(kind=InvoiceDocument.Kind.XRECHNUNG).exists():
        return document_response(invoice, InvoiceDocument.Kind.XRECHNUNG)
    return document_response(invoice, InvoiceDocument.Kind.FACTURX)
