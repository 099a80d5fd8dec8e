"""EN 16931 e-invoices in UN/CEFACT CII: Factur-X/ZUGFeRD (EN 16931 profile) and XRechnung.

Pure functions over plain values: :func:`cii_xml` writes the XML of an
:class:`InvoiceData`, :func:`business_rule_errors` checks the EN 16931 and
XRechnung business rules that can be checked without the KoSIT validator
(Schematron needs Java/Saxon, which this product does not ship).

Mapping, in the words of the standard:

- BT-3 type code 380 (commercial invoice) or 381 (credit note). A credit note
  states positive amounts; the type code says they are credited. The credit
  notes of :mod:`leitstand.billing.actions` store negative amounts, so their
  signs are flipped here, and BT-25 names the corrected invoice.
- VAT categories (BT-118): ``S`` standard rate, ``AE`` reverse charge (§ 13b
  UStG, "VATEX-EU-AE"), ``O`` not subject to VAT in Germany (§ 3a Abs. 2 UStG,
  "VATEX-EU-O"; BR-O-02 forbids VAT identifiers then, so the seller's tax
  number is given as BT-32 instead).
- BR-27: an item net price is never negative; a line that credits money on an
  invoice (an SLA compensation, say) carries a negative quantity instead.
- BG-25: an invoice has at least one line; an invoice without lines (nothing
  was used) gets one line at zero saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type hints

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}

FACTURX = "facturx"
XRECHNUNG = "xrechnung"
GUIDELINES = {
    FACTURX: "urn:cen.eu:en16931:2017",
    XRECHNUNG: "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
}
# BT-23: the Peppol billing process, which XRechnung 3.0 expects.
BUSINESS_PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
SEPA_CREDIT_TRANSFER = "58"
# UN/ECE Rec. 20 unit codes (BT-130) for the units the invoice run writes.
UNIT_CODES = {"month": "MON", "hour": "HUR", "h": "HUR", "day": "DAY", "min": "MIN"}
CATEGORY = {"standard": "S", "reverse_charge": "AE", "not_taxable": "O"}
EXEMPTION = {
    "reverse_charge": ("VATEX-EU-AE", "Reverse charge"),
    "not_taxable": ("VATEX-EU-O", "Not subject to VAT"),
}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Party:
    """Seller or buyer: name, address, identifiers and contact."""

    name: str
    street: str
    postcode: str
    city: str
    country: str
    vat_id: str = ""
    tax_number: str = ""
    identifier: str = ""  # BT-46 buyer identifier (customer number)
    email: str = ""  # BT-34 / BT-49 electronic address
    contact_name: str = ""
    phone: str = ""


@dataclass(frozen=True)
class DocLine:
    """One invoice line as stored (amounts with the signs of the invoice)."""

    position: int
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    net: Decimal
    vat_rate: Decimal
    vat: Decimal


@dataclass(frozen=True)
class InvoiceData:
    """Everything an invoice document says, as plain values."""

    number: str
    credit_note: bool
    issued_on: date
    due_on: date
    period_start: date
    period_end: date
    currency: str
    treatment: str  # standard, reverse_charge, not_taxable
    seller: Party
    buyer: Party
    buyer_reference: str
    lines: Sequence[DocLine]
    net_total: Decimal
    vat_total: Decimal
    gross_total: Decimal
    iban: str = ""
    bic: str = ""
    payment_terms: str = ""
    notes: Sequence[str] = ()
    corrects_number: str = ""
    corrects_issued_on: date | None = None
    empty_line_text: str = "No charges in this period"
    by_rate: dict[Decimal, tuple[Decimal, Decimal]] = field(default_factory=dict)


def amount(value: Decimal) -> str:
    """An amount with exactly two decimals (BR-DEC-*)."""
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def number(value: Decimal) -> str:
    """A quantity or rate without exponent or needless zeros: 1, 0.533333, 19."""
    return format(value.normalize(), "f")


def price(value: Decimal) -> str:
    """A unit price: as exact as stored, but never fewer than two decimals."""
    value = value.normalize()
    if value.as_tuple().exponent > -2:  # type: ignore[operator]
        value = value.quantize(CENT)
    return format(value, "f")


def _sub(
    parent: etree._Element, tag: str, text: str | None = None, **attrib: str
) -> etree._Element:
    prefix, name = tag.split(":")
    element = etree.SubElement(parent, f"{{{NSMAP[prefix]}}}{name}", attrib)
    if text is not None:
        element.text = text
    return element


def _date(parent: etree._Element, tag: str, value: date, qualified: bool = False) -> None:
    holder = _sub(parent, tag)
    _sub(
        holder,
        "qdt:DateTimeString" if qualified else "udt:DateTimeString",
        f"{value:%Y%m%d}",
        format="102",
    )


def _party(
    parent: etree._Element, tag: str, party: Party, *, seller: bool, treatment: str, profile: str
) -> None:
    node = _sub(parent, tag)
    if party.identifier:
        _sub(node, "ram:ID", party.identifier)
    _sub(node, "ram:Name", party.name)
    if (
        seller
        and (party.contact_name or party.phone or party.email)
        and (profile == XRECHNUNG or party.contact_name)
    ):
        contact = _sub(node, "ram:DefinedTradeContact")
        if party.contact_name:
            _sub(contact, "ram:PersonName", party.contact_name)
        if party.phone:
            _sub(
                _sub(contact, "ram:TelephoneUniversalCommunication"),
                "ram:CompleteNumber",
                party.phone,
            )
        if party.email:
            _sub(_sub(contact, "ram:EmailURIUniversalCommunication"), "ram:URIID", party.email)
    address = _sub(node, "ram:PostalTradeAddress")
    if party.postcode:
        _sub(address, "ram:PostcodeCode", party.postcode)
    if party.street:
        _sub(address, "ram:LineOne", party.street)
    if party.city:
        _sub(address, "ram:CityName", party.city)
    _sub(address, "ram:CountryID", party.country.upper())
    if party.email:
        _sub(_sub(node, "ram:URIUniversalCommunication"), "ram:URIID", party.email, schemeID="EM")
    # BR-O-02: no VAT identifiers on an invoice outside the scope of VAT.
    if seller and party.tax_number and (treatment == "not_taxable" or not party.vat_id):
        _sub(_sub(node, "ram:SpecifiedTaxRegistration"), "ram:ID", party.tax_number, schemeID="FC")
    if party.vat_id and treatment != "not_taxable":
        _sub(_sub(node, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat_id, schemeID="VA")


def _tax(
    parent: etree._Element,
    treatment: str,
    rate: Decimal,
    basis: Decimal | None = None,
    tax: Decimal | None = None,
) -> None:
    node = _sub(parent, "ram:ApplicableTradeTax")
    if tax is not None:
        _sub(node, "ram:CalculatedAmount", amount(tax))
    _sub(node, "ram:TypeCode", "VAT")
    exemption = EXEMPTION.get(treatment)
    if exemption and basis is not None:
        _sub(node, "ram:ExemptionReason", exemption[1])
    if basis is not None:
        _sub(node, "ram:BasisAmount", amount(basis))
    _sub(node, "ram:CategoryCode", CATEGORY[treatment])
    if exemption and basis is not None:
        _sub(node, "ram:ExemptionReasonCode", exemption[0])
    if treatment != "not_taxable":  # BR-O-05: category O carries no rate
        _sub(node, "ram:RateApplicablePercent", number(rate) if rate else "0")


def document_lines(data: InvoiceData) -> list[DocLine]:
    """The lines as the XML states them: signs for the type code, at least one line."""
    sign = Decimal(-1) if data.credit_note else Decimal(1)
    lines = []
    for line in data.lines:
        quantity, unit_price = line.quantity * sign, line.unit_price
        if unit_price < 0:  # BR-27: the price is never negative, the quantity may be
            quantity, unit_price = -quantity, -unit_price
        lines.append(
            DocLine(
                line.position,
                line.description,
                quantity,
                line.unit,
                unit_price,
                line.net * sign,
                line.vat_rate,
                line.vat * sign,
            )
        )
    if not lines:
        rate = Decimal("19") if data.treatment == "standard" else Decimal("0")
        lines.append(
            DocLine(
                1,
                data.empty_line_text,
                Decimal(1),
                "item",
                Decimal(0),
                Decimal(0),
                rate,
                Decimal(0),
            )
        )
    return lines


def tax_breakdown(
    data: InvoiceData, lines: Sequence[DocLine]
) -> dict[Decimal, tuple[Decimal, Decimal]]:
    """BG-23: net and VAT per rate, from the lines as stated (signs already applied)."""
    by_rate: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for line in lines:
        basis, tax = by_rate.get(line.vat_rate, (Decimal(0), Decimal(0)))
        by_rate[line.vat_rate] = (basis + line.net, tax + line.vat)
    return by_rate


def _line_item(transaction: etree._Element, line: DocLine, treatment: str) -> None:
    """BG-25: one invoice line."""
    item = _sub(transaction, "ram:IncludedSupplyChainTradeLineItem")
    _sub(_sub(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(line.position))
    _sub(_sub(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)
    agreement = _sub(item, "ram:SpecifiedLineTradeAgreement")
    _sub(
        _sub(agreement, "ram:NetPriceProductTradePrice"),
        "ram:ChargeAmount",
        price(line.unit_price),
    )
    delivery = _sub(item, "ram:SpecifiedLineTradeDelivery")
    unit = UNIT_CODES.get(line.unit, "C62")
    _sub(delivery, "ram:BilledQuantity", number(line.quantity), unitCode=unit)
    settlement = _sub(item, "ram:SpecifiedLineTradeSettlement")
    _tax(settlement, treatment, line.vat_rate)
    summation = _sub(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _sub(summation, "ram:LineTotalAmount", amount(line.net))


def _settlement(transaction: etree._Element, data: InvoiceData, lines: Sequence[DocLine]) -> None:
    """BG-16 payment, BG-23 VAT breakdown, BG-14 period, BG-22 totals, BG-3 reference."""
    sign = Decimal(-1) if data.credit_note else Decimal(1)
    settlement = _sub(transaction, "ram:ApplicableHeaderTradeSettlement")
    _sub(settlement, "ram:PaymentReference", data.number)
    _sub(settlement, "ram:InvoiceCurrencyCode", data.currency)
    if data.iban:
        means = _sub(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _sub(means, "ram:TypeCode", SEPA_CREDIT_TRANSFER)
        account = _sub(means, "ram:PayeePartyCreditorFinancialAccount")
        _sub(account, "ram:IBANID", data.iban.replace(" ", ""))
        if data.bic:
            institution = _sub(means, "ram:PayeeSpecifiedCreditorFinancialInstitution")
            _sub(institution, "ram:BICID", data.bic)
    for rate, (basis, tax) in sorted(tax_breakdown(data, lines).items()):
        _tax(settlement, data.treatment, rate, basis, tax)
    period = _sub(settlement, "ram:BillingSpecifiedPeriod")
    _date(period, "ram:StartDateTime", data.period_start)
    _date(period, "ram:EndDateTime", data.period_end)
    terms = _sub(settlement, "ram:SpecifiedTradePaymentTerms")
    if data.payment_terms:
        _sub(terms, "ram:Description", data.payment_terms)
    if not data.credit_note:
        _date(terms, "ram:DueDateDateTime", data.due_on)
    sums = _sub(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    line_total = sum((line.net for line in lines), Decimal(0))
    _sub(sums, "ram:LineTotalAmount", amount(line_total))
    _sub(sums, "ram:TaxBasisTotalAmount", amount(data.net_total * sign))
    _sub(sums, "ram:TaxTotalAmount", amount(data.vat_total * sign), currencyID=data.currency)
    _sub(sums, "ram:GrandTotalAmount", amount(data.gross_total * sign))
    _sub(sums, "ram:DuePayableAmount", amount(data.gross_total * sign))
    if data.corrects_number:
        reference = _sub(settlement, "ram:InvoiceReferencedDocument")
        _sub(reference, "ram:IssuerAssignedID", data.corrects_number)
        if data.corrects_issued_on:
            _date(reference, "ram:FormattedIssueDateTime", data.corrects_issued_on, qualified=True)


def cii_xml(data: InvoiceData, profile: str = FACTURX) -> bytes:
    """The CII XML of the invoice for ``profile`` (:data:`FACTURX` or :data:`XRECHNUNG`)."""
    if profile not in GUIDELINES:
        raise ValueError(f"unknown e-invoice profile {profile!r}")
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
    context = _sub(root, "rsm:ExchangedDocumentContext")
    _sub(
        _sub(context, "ram:BusinessProcessSpecifiedDocumentContextParameter"),
        "ram:ID",
        BUSINESS_PROCESS,
    )
    _sub(
        _sub(context, "ram:GuidelineSpecifiedDocumentContextParameter"),
        "ram:ID",
        GUIDELINES[profile],
    )
    document = _sub(root, "rsm:ExchangedDocument")
    _sub(document, "ram:ID", data.number)
    _sub(document, "ram:TypeCode", "381" if data.credit_note else "380")
    _date(document, "ram:IssueDateTime", data.issued_on)
    for note in data.notes:
        _sub(_sub(document, "ram:IncludedNote"), "ram:Content", note)

    transaction = _sub(root, "rsm:SupplyChainTradeTransaction")
    lines = document_lines(data)
    for line in lines:
        _line_item(transaction, line, data.treatment)
    agreement = _sub(transaction, "ram:ApplicableHeaderTradeAgreement")
    _sub(agreement, "ram:BuyerReference", data.buyer_reference)
    _party(
        agreement,
        "ram:SellerTradeParty",
        data.seller,
        seller=True,
        treatment=data.treatment,
        profile=profile,
    )
    _party(
        agreement,
        "ram:BuyerTradeParty",
        data.buyer,
        seller=False,
        treatment=data.treatment,
        profile=profile,
    )
    _sub(transaction, "ram:ApplicableHeaderTradeDelivery")

    _settlement(transaction, data, lines)
    content: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return content


def _decimal(node: etree._Element | None) -> Decimal:
    if node is None or node.text is None:
        return Decimal(0)
    return Decimal(node.text)


SETTLEMENT = "//ram:ApplicableHeaderTradeSettlement"
SUMS = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
SELLER = "//ram:SellerTradeParty"
BUYER = "//ram:BuyerTradeParty"
LINE_TAX = ".//ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax"


class _Rules:
    """The business rules over one parsed CII document; ``errors`` collects what fails."""

    def __init__(self, xml: bytes) -> None:
        self.root = etree.fromstring(xml)
        self.errors: list[str] = []
        self.items: list[etree._Element] = self.root.xpath(
            "//ram:IncludedSupplyChainTradeLineItem", namespaces=NSMAP
        )

    def find(self, path: str, node: etree._Element | None = None) -> etree._Element | None:
        found: list[etree._Element] = (self.root if node is None else node).xpath(
            path, namespaces=NSMAP
        )
        return found[0] if found else None

    def text(self, path: str, node: etree._Element | None = None) -> str:
        found = self.find(path, node)
        return (found.text or "").strip() if found is not None else ""

    def rule(self, ok: bool, message: str) -> None:
        if not ok:
            self.errors.append(message)

    def mandatory(self) -> None:
        """BR-01 to BR-16: what every invoice states."""
        text, rule = self.text, self.rule
        rule(
            bool(text("//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID")),
            "BR-01 specification identifier",
        )
        rule(bool(text("//rsm:ExchangedDocument/ram:ID")), "BR-02 invoice number")
        rule(
            bool(text("//rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString")),
            "BR-03 issue date",
        )
        rule(
            text("//rsm:ExchangedDocument/ram:TypeCode") in {"380", "381", "384", "389"},
            "BR-04 invoice type code",
        )
        rule(bool(text(f"{SETTLEMENT}/ram:InvoiceCurrencyCode")), "BR-05 currency")
        rule(bool(text(f"{SELLER}/ram:Name")), "BR-06 seller name")
        rule(bool(text(f"{BUYER}/ram:Name")), "BR-07 buyer name")
        rule(bool(text(f"{SELLER}/ram:PostalTradeAddress/ram:CountryID")), "BR-09 seller country")
        rule(bool(text(f"{BUYER}/ram:PostalTradeAddress/ram:CountryID")), "BR-11 buyer country")
        for code in ("LineTotalAmount", "TaxBasisTotalAmount", "GrandTotalAmount"):
            rule(self.find(f"{SUMS}/ram:{code}") is not None, f"BR-12..15 {code} missing")
        rule(self.find(f"{SUMS}/ram:DuePayableAmount") is not None, "BR-15 amount due missing")
        rule(len(self.items) >= 1, "BR-16 at least one line")
        for item in self.items:
            rule(bool(self.text(".//ram:LineID", item)), "BR-21 line identifier")
            rule(bool(self.text(".//ram:SpecifiedTradeProduct/ram:Name", item)), "BR-25 item name")
            charge = self.find(".//ram:NetPriceProductTradePrice/ram:ChargeAmount", item)
            rule(_decimal(charge) >= 0, "BR-27 negative item price")

    def arithmetic(self) -> None:
        """BR-CO-10 to BR-CO-16: the totals add up."""
        line_sum = sum(
            (_decimal(self.find(".//ram:LineTotalAmount", item)) for item in self.items),
            Decimal(0),
        )
        line_total = _decimal(self.find(f"{SUMS}/ram:LineTotalAmount"))
        basis = _decimal(self.find(f"{SUMS}/ram:TaxBasisTotalAmount"))
        tax = _decimal(self.find(f"{SUMS}/ram:TaxTotalAmount"))
        grand = _decimal(self.find(f"{SUMS}/ram:GrandTotalAmount"))
        due = _decimal(self.find(f"{SUMS}/ram:DuePayableAmount"))
        breakdown = self.root.xpath(f"{SETTLEMENT}/ram:ApplicableTradeTax", namespaces=NSMAP)
        per_category = sum(
            (_decimal(self.find("ram:CalculatedAmount", t)) for t in breakdown), Decimal(0)
        )
        self.rule(line_total == line_sum, f"BR-CO-10 sum of line net {line_sum} != {line_total}")
        self.rule(basis == line_total, "BR-CO-13 tax basis total = line total (no allowances)")
        self.rule(per_category == tax, "BR-CO-14 VAT total = sum of VAT per category")
        self.rule(grand == basis + tax, f"BR-CO-15 {grand} != {basis} + {tax}")
        self.rule(due == grand, "BR-CO-16 amount due = grand total (nothing prepaid)")
        self.rule(len(breakdown) >= 1, "BR-CO-18 at least one VAT breakdown")
        if self.text("//rsm:ExchangedDocument/ram:TypeCode") == "381":
            self.rule(grand >= 0, "credit note amounts are stated positive under type code 381")

    def _lines_of(self, category: str, rate: etree._Element | None) -> Decimal:
        total = Decimal(0)
        for item in self.items:
            if self.text(f"{LINE_TAX}/ram:CategoryCode", item) != category:
                continue
            line_rate = self.find(f"{LINE_TAX}/ram:RateApplicablePercent", item)
            if rate is None or _decimal(line_rate) == _decimal(rate):
                total += _decimal(self.find(".//ram:LineTotalAmount", item))
        return total

    def vat(self) -> None:
        """BR-CO-17, BR-S, BR-AE, BR-O: the VAT breakdown per category."""
        seller_va = self.text(f"{SELLER}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']")
        seller_fc = self.text(f"{SELLER}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='FC']")
        buyer_va = self.text(f"{BUYER}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']")
        for tax in self.root.xpath(f"{SETTLEMENT}/ram:ApplicableTradeTax", namespaces=NSMAP):
            category = self.text("ram:CategoryCode", tax)
            basis = _decimal(self.find("ram:BasisAmount", tax))
            calculated = _decimal(self.find("ram:CalculatedAmount", tax))
            rate = self.find("ram:RateApplicablePercent", tax)
            self.rule(
                basis == self._lines_of(category, rate),
                f"BR-{category}-08 taxable amount {basis} != sum of its lines",
            )
            if rate is not None:
                expected = (basis * _decimal(rate) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
                self.rule(
                    calculated == expected,
                    f"BR-CO-17 VAT {calculated} != {basis} x {rate.text} %",
                )
            exempt = bool(
                self.text("ram:ExemptionReason", tax) or self.text("ram:ExemptionReasonCode", tax)
            )
            if category == "S":
                self.rule(bool(seller_va or seller_fc), "BR-S-02 seller VAT ID or tax number")
                self.rule(rate is not None and _decimal(rate) > 0, "BR-S-05 rate above zero")
            elif category == "AE":
                self.rule(bool(seller_va and buyer_va), "BR-AE-02 seller and buyer VAT IDs")
                self.rule(calculated == 0, "BR-AE-09 reverse charge VAT is zero")
                self.rule(exempt, "BR-AE-10 exemption reason")
            elif category == "O":
                self.rule(not seller_va and not buyer_va, "BR-O-02 no VAT IDs outside VAT")
                self.rule(rate is None, "BR-O-05 no rate for category O")
                self.rule(calculated == 0, "BR-O-09 no VAT for category O")
                self.rule(exempt, "BR-O-10 exemption reason")

    def xrechnung(self) -> None:
        """The German CIUS (BR-DE-*) and the electronic addresses XRechnung 3.0 requires."""
        text, rule = self.text, self.rule
        contact = f"{SELLER}/ram:DefinedTradeContact"
        means = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans"
        rule(self.find(means) is not None, "BR-DE-1 payment instructions")
        rule(self.find(contact) is not None, "BR-DE-2 seller contact")
        rule(bool(text(f"{SELLER}/ram:PostalTradeAddress/ram:CityName")), "BR-DE-3 seller city")
        rule(
            bool(text(f"{SELLER}/ram:PostalTradeAddress/ram:PostcodeCode")),
            "BR-DE-4 seller postcode",
        )
        rule(bool(text(f"{contact}/ram:PersonName")), "BR-DE-5 seller contact name")
        rule(
            bool(text(f"{contact}/ram:TelephoneUniversalCommunication/ram:CompleteNumber")),
            "BR-DE-6 seller contact phone",
        )
        rule(
            bool(text(f"{contact}/ram:EmailURIUniversalCommunication/ram:URIID")),
            "BR-DE-7 seller contact e-mail",
        )
        rule(bool(text(f"{BUYER}/ram:PostalTradeAddress/ram:CityName")), "BR-DE-8 buyer city")
        rule(
            bool(text(f"{BUYER}/ram:PostalTradeAddress/ram:PostcodeCode")), "BR-DE-9 buyer postcode"
        )
        rule(
            bool(text("//ram:ApplicableHeaderTradeAgreement/ram:BuyerReference")),
            "BR-DE-15 buyer reference (Leitweg-ID)",
        )
        rule(
            bool(text(f"{SELLER}/ram:SpecifiedTaxRegistration/ram:ID")),
            "BR-DE-16 seller VAT ID or tax number",
        )
        rule(
            text(f"{means}/ram:TypeCode") != SEPA_CREDIT_TRANSFER
            or bool(text(f"{means}/ram:PayeePartyCreditorFinancialAccount/ram:IBANID")),
            "BR-DE-23 IBAN for a SEPA credit transfer",
        )
        rule(
            bool(text(f"{SELLER}/ram:URIUniversalCommunication/ram:URIID")),
            "BR-DE (XRechnung 3.0) BT-34 seller electronic address",
        )
        rule(
            bool(text(f"{BUYER}/ram:URIUniversalCommunication/ram:URIID")),
            "BR-DE (XRechnung 3.0) BT-49 buyer electronic address",
        )


def business_rule_errors(xml: bytes, profile: str = FACTURX) -> list[str]:
    """The EN 16931 (and, for XRechnung, BR-DE) rules this XML breaks; empty when none.

    A Python subset of the Schematron: the mandatory content (BR-01 to BR-27),
    the arithmetic (BR-CO-10 to BR-CO-18), the VAT categories (BR-S, BR-AE,
    BR-O) and the German CIUS (BR-DE-*).
    """
    rules = _Rules(xml)
    rules.mandatory()
    rules.arithmetic()
    rules.vat()
    if profile == XRECHNUNG:
        rules.xrechnung()
    return rules.errors
