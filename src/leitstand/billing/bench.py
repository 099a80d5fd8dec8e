"""``leitstand bench billing``: the monthly invoice run for N customers with 50 time entries each.

Builds the data in a scratch database (bulk inserts, not timed), then times
``run_month`` -- every customer's draft with fees, add-ons and priced time.
Then it finalises ``--documents`` drafts (numbers, PDF/A-3 with Factur-X,
XRechnung: what finalising costs per invoice) and streams the CSV export of
all items of the month. The last line is JSON: ``{"customers": ...,
"entries": ..., "seconds": ..., "documents": ..., "seconds_per_document": ...,
"export_lines": ..., "export_seconds": ...}``.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.db import transaction

from leitstand.accounts.models import User
from leitstand.billing import actions, exports
from leitstand.billing.models import Invoice, InvoiceDocument, InvoiceLine
from leitstand.contracts.catalog import load_file
from leitstand.contracts.models import Asset, Contract, Customer, Plan
from leitstand.core.demo import CATALOG
from leitstand.helpdesk.models import Ticket, TimeEntry

BERLIN = ZoneInfo("Europe/Berlin")
WORK_TYPES = ("it_support", "basic_support", "consultancy")


def build(customers: int, entries: int) -> None:
    """Customers on the Webosa plan, each with one ticket per 10 entries."""
    load_file(CATALOG)
    plan = Plan.objects.get(name="webosa-managed")
    staff, _ = User.objects.get_or_create(username="bench-staff", defaults={"is_staff": True})
    with transaction.atomic():
        Customer.objects.bulk_create(
            Customer(number=f"B{i:07d}", name=f"Customer {i}") for i in range(customers)
        )
        ids = list(Customer.objects.filter(number__startswith="B").values_list("pk", flat=True))
        Asset.objects.bulk_create(Asset(customer_id=c, name="server") for c in ids)
        assets = dict(Asset.objects.filter(customer_id__in=ids).values_list("customer_id", "pk"))
        Contract.objects.bulk_create(
            Contract(asset_id=assets[c], plan=plan, starts_on=date(2026, 1, 1)) for c in ids
        )
        contracts = dict(
            Contract.objects.filter(asset__customer_id__in=ids).values_list(
                "asset__customer_id", "pk"
            )
        )
        per_ticket = 10
        tickets = [
            Ticket(
                number=f"B-{c}-{t}",
                customer_id=c,
                asset_id=assets[c],
                contract_id=contracts[c],
                kind="request",
                channel="portal",
                subject="bench",
                created_at=datetime(2026, 11, 2, 9, tzinfo=BERLIN),
            )
            for c in ids
            for t in range(max(1, entries // per_ticket))
        ]
        Ticket.objects.bulk_create(tickets, batch_size=5000)
        by_customer: dict[int, list[int]] = {}
        for pk, c in Ticket.objects.filter(customer_id__in=ids).values_list("pk", "customer_id"):
            by_customer.setdefault(c, []).append(pk)
        TimeEntry.objects.bulk_create(
            (
                TimeEntry(
                    ticket_id=by_customer[c][e % len(by_customer[c])],
                    user=staff,
                    work_type=WORK_TYPES[e % 3],
                    started_at=datetime(2026, 11, 3, 9, tzinfo=BERLIN) + timedelta(hours=e),
                    seconds=60 * (5 + e % 50),
                    billable=True,
                )
                for c in ids
                for e in range(entries)
            ),
            batch_size=10000,
        )


def _finalise(count: int) -> tuple[float, int]:
    """Finalise ``count`` drafts with their documents; seconds per invoice."""
    Customer.objects.filter(number__startswith="B").update(
        street="Benchstraße 1", postcode="10115", city="Berlin"
    )
    drafts = list(Invoice.objects.filter(status=Invoice.Status.DRAFT).order_by("pk")[:count])
    start = time.perf_counter()
    for draft in drafts:
        actions.finalise(draft, date(2026, 12, 1))
    seconds = time.perf_counter() - start
    stored = InvoiceDocument.objects.count()
    print(
        f"finalise: {len(drafts)} invoices with {stored} documents in {seconds:.1f} s "
        f"({seconds / max(1, len(drafts)):.3f} s per invoice)"
    )
    return seconds / max(1, len(drafts)), len(drafts)


def _export() -> tuple[int, float]:
    """Stream the CSV of every item of the month (drafts and final) into nothing."""
    lines = exports.lines_for(
        start=date(2026, 11, 1), end=date(2026, 11, 1), statuses=["draft", "final"]
    )
    start = time.perf_counter()
    rows = sum(1 for _ in exports.stream(lines, exports.DIALECTS["excel-de"])) - 2
    seconds = time.perf_counter() - start
    print(f"export: {rows} item lines as CSV in {seconds:.1f} s ({rows / seconds:.0f} lines/s)")
    return rows, seconds


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="leitstand bench billing")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=50, help="time entries per customer")
    parser.add_argument(
        "--documents", type=int, default=20, help="drafts to finalise with their documents"
    )
    args = parser.parse_args(argv)
    # WeasyPrint reports every layout step and factur-x every attachment at INFO.
    for noisy in ("weasyprint", "fontTools", "factur-x"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    call_command("migrate", verbosity=0, interactive=False)
    start = time.perf_counter()
    build(args.customers, args.entries)
    print(
        f"data: {args.customers} customers, {args.customers * args.entries} time entries "
        f"({time.perf_counter() - start:.1f} s to build, not counted)"
    )
    start = time.perf_counter()
    drafted = actions.run_month(2026, 11)
    seconds = time.perf_counter() - start
    lines = InvoiceLine.objects.count()
    print(
        f"run_month: {drafted} invoices, {lines} lines in {seconds:.1f} s "
        f"({drafted / seconds:.0f} invoices/s)"
    )
    assert Invoice.objects.count() == drafted
    per_document, finalised = _finalise(args.documents)
    export_lines, export_seconds = _export()
    print(
        json.dumps(
            {
                "customers": args.customers,
                "entries": args.customers * args.entries,
                "seconds": round(seconds, 2),
                "documents": finalised,
                "seconds_per_document": round(per_document, 3),
                "export_lines": export_lines,
                "export_seconds": round(export_seconds, 2),
            }
        )
    )
    return 0
