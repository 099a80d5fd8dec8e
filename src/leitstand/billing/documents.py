"""Invoice documents: the PDF (ZUGFeRD/Factur-X, PDF/A-3) and the XRechnung XML.

§ 14 Abs. 4 UStG lists what an invoice must state: seller and buyer with full
name and address, the seller's "Steuernummer oder ... Umsatzsteuer-
Identifikationsnummer", the issue date, "eine fortlaufende Nummer", quantity
and kind of the service, "den Zeitpunkt der ... sonstigen Leistung", the net
amount per tax rate, the rate and the tax; § 14a Abs. 5 UStG adds the words
"Steuerschuldnerschaft des Leistungsempfängers" for reverse charge (and the
buyer's VAT ID). The template ``billing/invoice_pdf.html`` states all of it in
the customer's language.

Final invoices are immutable (GoBD): :func:`store_documents` runs inside
:func:`leitstand.billing.actions.finalise`, in the transaction that takes the
number, so there is never a final invoice without its documents, and a
document that is stored is never rendered again. Drafts are rendered on the
fly for review (:func:`render_pdf` with ``draft=True``) and never stored.

WeasyPrint fetches nothing: the template carries its CSS inline, fonts come
from fontconfig (Debian's DejaVu), and any URL in the HTML stops the rendering.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import facturx  # type: ignore[import-untyped]  # no type hints
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leitstand.billing import einvoice
from leitstand.billing.models import BillingProfile, Invoice, InvoiceDocument
from leitstand.billing.seller import Seller, seller
from leitstand.contracts.models import Customer, VerifiedEmail
from leitstand.core.templatetags.leitstand import amount

# WeasyPrint (cairo/pango through cffi) is not documented as thread-safe, and the
# web server and the concurrent finalisations run it from several threads.
_RENDER_LOCK = threading.Lock()
UNITS = {
    "month": gettext_lazy("month"),
    "task": gettext_lazy("task"),
    "item": gettext_lazy("item"),
}
REVERSE_CHARGE_DE = "Steuerschuldnerschaft des Leistungsempfängers"


class DocumentError(Exception):
    """A document could not be produced (the finalisation that needed it is undone)."""


def no_fetching() -> Any:
    """A WeasyPrint URL fetcher that refuses every URL except inline ``data:``: an invoice
    never depends on the network. (WeasyPrint is imported here, not at the top: it takes
    a second to load, and every ``leitstand`` command imports the billing actions.)"""
    from weasyprint.urls import (  # type: ignore[import-untyped]  # noqa: PLC0415
        FatalURLFetchingError,
        URLFetcher,
    )

    class NoFetching(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            raise FatalURLFetchingError(f"invoice documents fetch nothing, refused {url!r}")

    return NoFetching()


def buyer_email(customer: Customer) -> str:
    """BT-49: the invoice e-mail of the billing profile, else a billing contact's address."""
    profile = BillingProfile.objects.filter(customer=customer).first()
    if profile and profile.invoice_email:
        return profile.invoice_email
    emails = VerifiedEmail.objects.filter(contact__customer=customer).order_by(
        "-contact__is_billing", F("verified_at").desc(nulls_last=True), "pk"
    )
    first = emails.filter(Q(contact__is_billing=True) | Q(verified_at__isnull=False)).first()
    first = first or emails.first()
    return first.address if first else ""


def buyer_reference(customer: Customer) -> str:
    """BT-10: the Leitweg-ID of the billing profile, else the customer number."""
    profile = BillingProfile.objects.filter(customer=customer).first()
    return (profile.buyer_reference if profile else "") or customer.number


def _notes(invoice: Invoice, provider: Seller) -> list[str]:
    """BT-22 notes in the active language (the legal notes of § 14a UStG first)."""
    notes = []
    if invoice.vat_treatment == "reverse_charge":
        notes.append(
            _("Reverse charge: the recipient owes the VAT (§ 13b UStG).") + f" {REVERSE_CHARGE_DE}."
        )
    if invoice.vat_treatment == "not_taxable":
        notes.append(_("Not taxable in Germany (§ 3a Abs. 2 UStG)."))
    if invoice.corrects_id:
        corrected = invoice.corrects
        assert corrected is not None
        notes.append(
            _("This credit note corrects invoice %(number)s of %(date)s.")
            % {"number": corrected.number, "date": _date(corrected.issued_on)}
        )
    if provider.register:
        notes.append(
            f"{provider.register}; {_('Managing directors')}: {provider.managing_directors}"
        )
    return notes


def _date(value: date | None) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT") if value else ""


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return formats.number_format(text, use_l10n=True) if "." in text else text


def invoice_data(invoice: Invoice, *, draft: bool = False) -> einvoice.InvoiceData:
    """The plain values of an invoice, with texts in the active language."""
    provider = seller()
    customer = invoice.customer
    issued = invoice.issued_on or timezone.localdate()
    due = issued + timedelta(days=provider.payment_days)
    lines = [
        einvoice.DocLine(
            line.position,
            line.description + (f" ({_('included')})" if line.included else ""),
            line.quantity,
            line.unit,
            line.unit_price,
            line.net,
            line.vat_rate,
            line.vat,
        )
        for line in invoice.lines.all()
    ]
    corrected = invoice.corrects
    return einvoice.InvoiceData(
        number=invoice.number or f"{_('DRAFT')}-{invoice.pk}",
        credit_note=invoice.kind == Invoice.Kind.CREDIT_NOTE,
        issued_on=issued,
        due_on=due,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        currency=invoice.currency,
        treatment=invoice.vat_treatment,
        seller=einvoice.Party(
            provider.name,
            provider.street,
            provider.postcode,
            provider.city,
            provider.country,
            vat_id=provider.vat_id,
            tax_number=provider.tax_number,
            email=provider.email,
            contact_name=provider.contact_name,
            phone=provider.phone,
        ),
        buyer=einvoice.Party(
            customer.name,
            customer.street,
            customer.postcode,
            customer.city,
            customer.country,
            vat_id=customer.vat_id,
            identifier=customer.number,
            email=buyer_email(customer),
        ),
        buyer_reference=buyer_reference(customer),
        lines=lines,
        net_total=invoice.net_total,
        vat_total=invoice.vat_total,
        gross_total=invoice.gross_total,
        iban=provider.iban,
        bic=provider.bic,
        payment_terms=(
            _("Payable within %(days)s days without deduction, by %(date)s.")
            % {"days": provider.payment_days, "date": _date(due)}
        ),
        notes=_notes(invoice, provider),
        corrects_number=(corrected.number or "") if corrected else "",
        corrects_issued_on=corrected.issued_on if corrected else None,
        empty_line_text=_("No charges in this period"),
    )


@contextmanager
def _language(invoice: Invoice) -> Iterator[None]:
    """Documents speak the customer's language, whoever renders them."""
    with translation.override(invoice.customer.language or "de"):
        yield


def render_html(invoice: Invoice, *, draft: bool = False) -> str:
    """The invoice as HTML for the PDF, in the customer's language."""
    with _language(invoice):
        data = invoice_data(invoice, draft=draft)
        provider = seller()
        rows = einvoice.document_lines(data) if not data.lines else data.lines
        breakdown = einvoice.tax_breakdown(data, list(data.lines))
        context = {
            "invoice": invoice,
            "data": data,
            "seller": provider,
            "draft": draft,
            # Not "Gutschrift": in German VAT law that word means self-billing (§ 14
            # Abs. 2 UStG), and a correction so titled can trigger § 14c UStG.
            "title": _("Correction invoice") if data.credit_note else _("Invoice"),
            "lines": [
                {
                    "position": line.position,
                    "description": line.description,
                    "quantity": _plain(line.quantity),
                    "unit": UNITS.get(line.unit, line.unit),
                    "unit_price": amount(line.unit_price),
                    "vat_rate": _plain(line.vat_rate),
                    "net": amount(line.net),
                }
                for line in rows
            ],
            "breakdown": [
                {"rate": _plain(rate), "basis": amount(basis), "tax": amount(tax)}
                for rate, (basis, tax) in sorted(breakdown.items())
            ],
            "net_total": amount(invoice.net_total),
            "vat_total": amount(invoice.vat_total),
            "gross_total": amount(invoice.gross_total),
            "issued_on": _date(data.issued_on),
            "due_on": _date(data.due_on),
            "period_start": _date(data.period_start),
            "period_end": _date(data.period_end),
            "corrects_issued_on": _date(data.corrects_issued_on),
            "reverse_charge_de": REVERSE_CHARGE_DE,
            "language": translation.get_language(),
        }
        return render_to_string("billing/invoice_pdf.html", context)


def render_pdf(invoice: Invoice, *, draft: bool = False) -> bytes:
    """A plain PDF/A-3b of the invoice (without the XML; see :func:`facturx_pdf`)."""
    from weasyprint import HTML  # type: ignore[import-untyped]  # noqa: PLC0415 - see no_fetching

    html = render_html(invoice, draft=draft)
    with _RENDER_LOCK:
        pdf: bytes = HTML(string=html, url_fetcher=no_fetching()).write_pdf(pdf_variant="pdf/a-3b")
    return pdf


def xml(invoice: Invoice, profile: str) -> bytes:
    """The CII XML of the invoice for a profile, in the customer's language."""
    with _language(invoice):
        return einvoice.cii_xml(invoice_data(invoice), profile)


def problems(invoice: Invoice, profile: str) -> list[str]:
    """What keeps the invoice from being a valid e-invoice of ``profile`` (empty: none)."""
    return check(xml(invoice, profile), profile)


def check(content: bytes, profile: str) -> list[str]:
    """The XSD (EN 16931 profile of Factur-X) and the business rules, for any CII XML."""
    found = einvoice.business_rule_errors(content, profile)
    try:
        facturx.xml_check_xsd(content, flavor="factur-x", level="en16931")
    except Exception as exc:  # the library raises a bare Exception with the XSD error
        found.append(f"XSD: {exc}")
    return found


def facturx_pdf(invoice: Invoice, cii: bytes) -> bytes:
    """The PDF/A-3 with the Factur-X XML embedded (factur-x checks the XSD again)."""
    pdf = render_pdf(invoice)
    with _language(invoice):
        kind = _("Correction invoice") if invoice.kind == Invoice.Kind.CREDIT_NOTE else _("Invoice")
        title = f"{kind} {invoice.number}"
    metadata = {
        "author": seller().name,
        "keywords": "Factur-X, ZUGFeRD, EN 16931",
        "title": title,
        "subject": title,
    }
    result: bytes = facturx.generate_from_binary(
        pdf,
        cii,
        flavor="factur-x",
        level="en16931",
        check_xsd=True,
        pdf_metadata=metadata,
        lang=invoice.customer.language or "de",
    )
    return result


def store_documents(invoice: Invoice) -> list[InvoiceDocument]:
    """Render and store the documents of a final invoice that it does not have yet.

    The Factur-X XML must pass the XSD and the business rules, or
    :class:`DocumentError` undoes the finalisation. XRechnung is stored only
    when the invoice can be one (it needs a buyer e-mail, addresses, ...);
    :func:`problems` tells staff what is missing.
    """
    if invoice.status != Invoice.Status.FINAL or not invoice.number:
        raise DocumentError("documents are stored for final invoices only")
    have = set(invoice.documents.values_list("kind", flat=True))
    stored = []
    cii = xml(invoice, einvoice.FACTURX)
    found = check(cii, einvoice.FACTURX)
    if found:
        raise DocumentError(f"invoice {invoice.number} is no valid e-invoice: {'; '.join(found)}")
    contents: dict[str, bytes] = {}
    if InvoiceDocument.Kind.FACTURX not in have:
        contents[InvoiceDocument.Kind.FACTURX] = cii
    if InvoiceDocument.Kind.PDF not in have:
        contents[InvoiceDocument.Kind.PDF] = facturx_pdf(invoice, cii)
    if InvoiceDocument.Kind.XRECHNUNG not in have and not problems(invoice, einvoice.XRECHNUNG):
        contents[InvoiceDocument.Kind.XRECHNUNG] = xml(invoice, einvoice.XRECHNUNG)
    for kind, content in contents.items():
        stored.append(
            InvoiceDocument.objects.create(
                invoice=invoice,
                kind=kind,
                content=content,
                sha256=hashlib.sha256(content).hexdigest(),
            )
        )
    return stored


def stored(invoice: Invoice, kind: str) -> InvoiceDocument | None:
    """The stored document of a final invoice, verified against its SHA-256."""
    document = invoice.documents.filter(kind=kind).first()
    if document is None:
        return None
    if hashlib.sha256(bytes(document.content)).hexdigest() != document.sha256:
        raise DocumentError(f"stored {kind} of {invoice.number} does not match its SHA-256")
    return document


def filename(invoice: Invoice, kind: str) -> str:
    """The download name: number and kind (XRechnung gets its own suffix)."""
    base = invoice.number or f"draft-{invoice.pk}"
    names: dict[str, str] = {
        InvoiceDocument.Kind.PDF: f"{base}.pdf",
        InvoiceDocument.Kind.FACTURX: f"{base}-factur-x.xml",
        InvoiceDocument.Kind.XRECHNUNG: f"{base}-xrechnung.xml",
    }
    return names[kind]
