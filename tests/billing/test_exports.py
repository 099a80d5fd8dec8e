"""CSV export of all invoice items: selection by period, customers and status; exact
Decimals; German Excel (semicolon, decimal comma, BOM) or standard CSV; streamed."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from tests.billing.conftest import MakeDraft
from tests.conftest import Tenant

from leitstand.billing import actions, exports
from leitstand.billing.invoicing import Line

pytestmark = pytest.mark.django_db
D = Decimal
SERVER = Line("Managed Server", D(1), "month", D("99.00"), D(19), "fee")
PRORATED = Line("Backup (16/30)", D("0.533333"), "month", D("10.00"), D(19), "addon")
EVIL = Line('=HYPERLINK("http://x")', D(1), "item", D("0.10"), D(19), "event")


@pytest.fixture
def staff(client: Client, staff_user: object) -> Client:
    client.force_login(staff_user)  # type: ignore[arg-type]
    return client


def address(tenant: Tenant) -> None:
    c = tenant.customer
    c.street, c.postcode, c.city = "Weg 2", "10115", "Berlin"
    c.save()


def read(response: StreamingHttpResponse, dialect: exports.Dialect) -> list[dict[str, str]]:
    raw = b"".join(response.streaming_content).decode("utf-8")  # type: ignore[arg-type]
    if dialect.bom:
        assert raw.startswith("\ufeff")
        raw = raw[1:]
    else:
        assert not raw.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(raw), delimiter=dialect.delimiter))


def test_german_excel_export_of_final_items(
    staff: Client, customer_a: Tenant, customer_b: Tenant, draft: MakeDraft
) -> None:
    address(customer_a)
    address(customer_b)
    a = actions.finalise(draft(customer_a.customer, [SERVER, PRORATED, EVIL]), date(2026, 12, 1))
    actions.finalise(draft(customer_b.customer, [SERVER]), date(2026, 12, 1))
    draft(customer_a.customer, [SERVER], month=12)  # another month, and a draft
    response = staff.get(
        "/staff/billing/export.csv",
        {
            "start": "2026-11",
            "end": "2026-11",
            "customers": "C90001",
            "status": "final",
            "dialect": "excel-de",
        },
    )
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"] == (
        'attachment; filename="invoice-items-2026-11-2026-11.csv"'
    )
    rows = read(response, exports.DIALECTS["excel-de"])
    assert [r["position"] for r in rows] == ["1", "2", "3"]
    assert {r["invoice_number"] for r in rows} == {a.number}
    assert rows[0]["net"] == "99,00"
    assert rows[0]["gross"] == "117,81"
    assert rows[1]["quantity"] == "0,533333"
    assert rows[1]["net"] == "5,33"
    assert rows[2]["description"].startswith("'=")  # no formula for Excel to run
    net = sum((D(r["net"].replace(",", ".")) for r in rows), D(0))
    vat = sum((D(r["vat"].replace(",", ".")) for r in rows), D(0))
    assert (net, vat) == (a.net_total, a.vat_total)


def test_standard_csv_with_drafts_and_every_customer(
    staff: Client, customer_a: Tenant, customer_b: Tenant, draft: MakeDraft
) -> None:
    draft(customer_a.customer, [SERVER])
    draft(customer_b.customer, [SERVER, PRORATED])
    response = staff.get(
        "/staff/billing/export.csv",
        {
            "start": "2026-10",
            "end": "2026-11",
            "customers": "",
            "status": "all",
            "dialect": "standard",
        },
    )
    rows = read(response, exports.DIALECTS["standard"])  # type: ignore[arg-type]
    assert len(rows) == 3
    assert {r["customer_number"] for r in rows} == {"C90001", "C90002"}
    assert {r["status"] for r in rows} == {"draft"}
    assert rows[0]["net"] == "99.00"
    assert list(rows[0]) == exports.HEADER


def test_bad_selections_get_a_message(staff: Client) -> None:
    for params in [
        {"start": "2026-12", "end": "2026-11", "status": "final", "dialect": "standard"},
        {"start": "x", "end": "2026-11", "status": "final", "dialect": "standard"},
        {"start": "2026-11", "end": "2026-11", "status": "final", "dialect": "xlsx"},
        {},
    ]:
        response = staff.get("/staff/billing/export.csv", params, follow=True)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")


def test_the_export_streams_in_chunks(customer_a: Tenant, draft: MakeDraft) -> None:
    draft(customer_a.customer, [SERVER] * 5)
    lines = exports.lines_for(start=date(2026, 11, 1), end=date(2026, 11, 1), statuses=["draft"])
    pieces = list(exports.stream(lines, exports.DIALECTS["excel-de"]))
    assert pieces[0] == "\ufeff"
    assert len(pieces) == 1 + 1 + 5  # BOM, header, one piece per line


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+49 30 123", "'+49 30 123"),
        ("-1", "'-1"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("Managed Server", "Managed Server"),
        ("Müller & Söhne", "Müller & Söhne"),
        ("", ""),
    ],
)
def test_spreadsheet_formulas_are_defused(text: str, written: str) -> None:
    assert exports._text(text) == written


@pytest.mark.parametrize(
    ("value", "dialect", "text"),
    [
        (D("1234.50"), "excel-de", "1234,50"),
        (D("1234.50"), "standard", "1234.50"),
        (D("-0.01"), "excel-de", "-0,01"),
        (D("100"), "standard", "100"),
    ],
)
def test_numbers_per_dialect(value: Decimal, dialect: str, text: str) -> None:
    assert exports._number(value, exports.DIALECTS[dialect]) == text


def test_semicolons_and_quotes_in_texts_survive_the_round_trip(
    customer_a: Tenant, draft: MakeDraft
) -> None:
    tricky = Line('Server; "web01"\nzweite Zeile', D(1), "month", D("10.00"), D(19), "fee")
    draft(customer_a.customer, [tricky])
    dialect = exports.DIALECTS["excel-de"]
    lines = exports.lines_for(start=date(2026, 11, 1), end=date(2026, 11, 1), statuses=["draft"])
    raw = "".join(exports.stream(lines, dialect))[1:]
    (row,) = list(csv.DictReader(io.StringIO(raw, newline=""), delimiter=";"))
    assert row["description"] == tricky.description
    assert row["unit_price"] == "10"
