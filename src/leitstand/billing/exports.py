"""CSV export of all invoice items (issue 7: "CSV export of all items").

One row per invoice line, with the invoice and customer it belongs to, for a
period and a selection of customers, streamed in chunks (a year of 10,000
customers is hundreds of thousands of lines; none is held in memory at once).

Two dialects, because the two kinds of reader disagree:

- ``excel-de`` (default): semicolon separated, decimal comma, UTF-8 with a
  byte order mark. German Excel opens such a file by double click with
  umlauts and amounts right; without the BOM it guesses Windows-1252, and with
  a comma separator it puts every row in one cell.
- ``standard``: RFC 4180 (comma, decimal point, no BOM), for scripts, DATEV
  imports via a mapping, pandas, LibreOffice.

Amounts are written from the stored Decimals as they are (never through
float), so the sum of a column equals the invoices' totals to the cent. A
text that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, tab or CR) is prefixed with an apostrophe (OWASP CSV injection).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet

from leitstand.billing.models import Invoice, InvoiceLine

BOM = "\ufeff"
HEADER = [
    "invoice_number",
    "kind",
    "status",
    "issued_on",
    "period_start",
    "period_end",
    "customer_number",
    "customer_name",
    "vat_treatment",
    "position",
    "line_kind",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "net",
    "vat_rate",
    "vat",
    "gross",
    "included",
    "reference",
    "currency",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Dialect:
    """How the file is written."""

    name: str
    delimiter: str
    decimal: str
    bom: bool


DIALECTS = {
    "excel-de": Dialect("excel-de", ";", ",", True),
    "standard": Dialect("standard", ",", ".", False),
}


def lines_for(
    *,
    start: date,
    end: date,
    customers: Iterable[str] = (),
    statuses: Iterable[str] = (Invoice.Status.FINAL,),
) -> QuerySet[InvoiceLine]:
    """Lines of invoices whose period starts in [start, end], of the given customer numbers."""
    lines = InvoiceLine.objects.filter(
        invoice__period_start__gte=start,
        invoice__period_start__lte=end,
        invoice__status__in=list(statuses),
    )
    numbers = [n for n in customers if n]
    if numbers:
        lines = lines.filter(invoice__customer__number__in=numbers)
    return lines.select_related("invoice", "invoice__customer").order_by(
        "invoice__period_start", "invoice__number", "invoice__pk", "position"
    )


def _text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _number(value: Decimal, dialect: Dialect) -> str:
    text = format(value, "f")
    return text.replace(".", dialect.decimal)


class _Echo:
    """A file whose write returns the line, so csv.writer feeds a generator."""

    def write(self, value: str) -> str:
        return value


def rows(lines: QuerySet[InvoiceLine], dialect: Dialect) -> Iterator[list[str]]:
    """The header and one row per line (values already formatted for ``dialect``)."""
    yield HEADER
    for line in lines.iterator(chunk_size=2000):
        invoice = line.invoice
        yield [
            invoice.number or "",
            invoice.kind,
            invoice.status,
            invoice.issued_on.isoformat() if invoice.issued_on else "",
            invoice.period_start.isoformat(),
            invoice.period_end.isoformat(),
            invoice.customer.number,
            _text(invoice.customer.name),
            invoice.vat_treatment,
            str(line.position),
            line.kind,
            _text(line.description),
            _number(line.quantity.normalize(), dialect),
            line.unit,
            _number(line.unit_price.normalize(), dialect),
            _number(line.net, dialect),
            _number(line.vat_rate.normalize(), dialect),
            _number(line.vat, dialect),
            _number(line.net + line.vat, dialect),
            "1" if line.included else "0",
            _text(line.reference),
            invoice.currency,
        ]


def stream(lines: QuerySet[InvoiceLine], dialect: Dialect) -> Iterator[str]:
    """The CSV text in pieces, BOM first when the dialect wants one."""
    if dialect.bom:
        yield BOM
    writer = csv.writer(_Echo(), delimiter=dialect.delimiter, lineterminator="\r\n")
    for row in rows(lines, dialect):
        yield writer.writerow(row)
