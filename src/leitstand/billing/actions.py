"""The monthly invoice run: drafts, finalising with gapless numbers, credit notes.

Seed 000 I: "€10.00 per commenced 6 minutes"; seed 003 §1: "35,00 EUR netto je
angefangener Viertelstunde"; seed 002 §1.7: "Billing is calculated per 30
minutes". The lines come from :mod:`leitstand.billing.invoicing`; this module
reads the contracts and recorded time and writes invoices.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from leitstand.billing import documents, invoicing
from leitstand.billing.charges import RateCard as RateCardRule
from leitstand.billing.models import Invoice, InvoiceLine, InvoiceSequence
from leitstand.contracts.models import Contract, Customer
from leitstand.core.bulk import insert_rows
from leitstand.core.sequences import take_next
from leitstand.helpdesk.models import TimeEntry

INVOICE_NUMBER_FORMAT = "RE-{year}-{seq:05d}"


def _month_window(year: int, month: int) -> tuple[datetime, datetime]:
    first, last = invoicing.month_bounds(year, month)
    tz = timezone.get_current_timezone()
    start = datetime.combine(first, time(0), tz)
    end = datetime.combine(date.fromordinal(last.toordinal() + 1), time(0), tz)
    return start, end


_Entry = tuple[int, str, int, bool, str, int | None]


@dataclass
class _Month:
    """Everything the run needs for one month, loaded in a handful of queries."""

    year: int
    month: int
    contracts: dict[int, list[Contract]] = field(default_factory=lambda: defaultdict(list))
    # customer id -> (entry id, work type, seconds, billable, ticket number, contract id)
    entries: dict[int, list[_Entry]] = field(default_factory=lambda: defaultdict(list))
    cards: dict[int, RateCardRule | None] = field(default_factory=dict)  # contract id -> rule


def _load_month(year: int, month: int, customers: QuerySet[Customer]) -> _Month:
    first, last = invoicing.month_bounds(year, month)
    data = _Month(year, month)
    contracts = (
        Contract.objects.filter(asset__customer__in=customers, starts_on__lte=last)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=first))
        .select_related("asset", "plan")
        .prefetch_related("addons")
        .order_by("asset__name", "starts_on")
    )
    for contract in contracts:
        data.contracts[contract.asset.customer_id].append(contract)
    start, end = _month_window(year, month)
    # Plain tuples: tens of thousands of model instances would cost more than the run.
    entries = (
        TimeEntry.objects.filter(
            ticket__customer__in=customers, started_at__gte=start, started_at__lt=end
        )
        .exclude(invoice_lines__invoice__status=Invoice.Status.FINAL)
        .values_list(
            "pk",
            "work_type",
            "seconds",
            "billable",
            "ticket__number",
            "ticket__contract_id",
            "ticket__customer_id",
        )
    )
    for pk, work_type, seconds, billable, number, contract_id, customer_id in entries:
        data.entries[customer_id].append((pk, work_type, seconds, billable, number, contract_id))
    contract_ids = {e[5] for group in data.entries.values() for e in group} - {None}
    rules: dict[int, RateCardRule] = {}
    for contract in Contract.objects.filter(pk__in=contract_ids).select_related(
        "rate_card", "plan__rate_card"
    ):
        card = contract.policy("rate_card")
        if card is None:
            data.cards[contract.pk] = None
            continue
        if card.pk not in rules:
            rules[card.pk] = card.to_rule()  # type: ignore[attr-defined]
        data.cards[contract.pk] = rules[card.pk]
    return data


def _lines_for(
    customer: Customer, data: _Month
) -> tuple[list[invoicing.Line], dict[str, list[int]], invoicing.Vat]:
    """The lines of one customer's month, and which time entries each time line bills."""
    vat = invoicing.vat_for(
        customer.country, is_business=customer.is_business, vat_id=customer.vat_id
    )
    lines: list[invoicing.Line] = []
    for contract in data.contracts.get(customer.pk, []):
        label = f"{contract.plan.title} ({contract.asset.name})"
        fee = invoicing.fee_line(
            label,
            contract.plan.monthly_fee,
            starts=contract.starts_on,
            ends=contract.ends_on,
            year=data.year,
            month=data.month,
            vat=vat,
            reference=contract.reference,
        )
        if fee is None:
            continue
        lines.append(fee)
        for addon in contract.addons.all():
            extra = invoicing.fee_line(
                f"{addon.title} ({contract.asset.name})",
                addon.monthly_fee,
                starts=contract.starts_on,
                ends=contract.ends_on,
                year=data.year,
                month=data.month,
                vat=vat,
                kind="addon",
            )
            if extra is not None:
                lines.append(extra)
    by_card: dict[int | None, list[_Entry]] = defaultdict(list)
    billed: dict[str, list[int]] = defaultdict(list)
    for entry in data.entries.get(customer.pk, []):
        by_card[entry[5]].append(entry)
        billed[entry[4]].append(entry[0])
    for contract_id, group in by_card.items():
        rule = data.cards.get(contract_id) if contract_id is not None else None
        work = [invoicing.WorkedTime(e[4], e[1], e[2], e[3]) for e in group]
        lines.extend(invoicing.time_lines(work, rule, vat))
    return lines, billed, vat


def _draft(customers: QuerySet[Customer], year: int, month: int) -> list[Invoice]:
    """Create (or replace) the drafts of ``customers`` for the month, in bulk."""
    first, last = invoicing.month_bounds(year, month)
    data = _load_month(year, month, customers)
    planned: list[
        tuple[Invoice, list[invoicing.Line], dict[str, list[int]], tuple[Decimal, ...]]
    ] = []
    for customer in customers.only("pk", "country", "is_business", "vat_id"):
        lines, billed, vat = _lines_for(customer, data)
        if not lines:
            continue
        sums = invoicing.totals(lines)
        invoice = Invoice(
            customer=customer,
            period_start=first,
            period_end=last,
            vat_treatment=vat.treatment.value,
            net_total=sums.net,
            vat_total=sums.vat,
            gross_total=sums.gross,
        )
        planned.append((invoice, lines, billed, sums.line_vat))
    with transaction.atomic():
        Invoice.objects.filter(
            customer__in=customers,
            period_start=first,
            kind=Invoice.Kind.INVOICE,
            status=Invoice.Status.DRAFT,
        ).delete()
        invoices = Invoice.objects.bulk_create([p[0] for p in planned], batch_size=2000)
        rows: list[InvoiceLine] = []
        entry_ids: list[list[int]] = []
        for invoice, (_, lines, billed, vats) in zip(invoices, planned, strict=True):
            for i, (line, line_vat) in enumerate(zip(lines, vats, strict=True), start=1):
                rows.append(_line_row(invoice, i, line, line_vat))
                entry_ids.append(billed.get(line.reference, []) if line.kind == "time" else [])
        created = InvoiceLine.objects.bulk_create(rows, batch_size=5000)
        insert_rows(
            InvoiceLine.time_entries.through,
            ("invoiceline", "timeentry"),
            (
                (row.pk, entry_id)
                for row, ids in zip(created, entry_ids, strict=True)
                for entry_id in ids
            ),
        )
        # Accepted SLA claims become credits on these drafts, exactly once (issue 7).
        from leitstand.reports.credits import credit_accepted_claims  # noqa: PLC0415

        credit_accepted_claims(invoices)
    return invoices


def _line_row(invoice: Invoice, position: int, line: invoicing.Line, vat: Decimal) -> InvoiceLine:
    """The stored form of a computed line (net and VAT exactly as the pure rule says)."""
    return InvoiceLine(
        invoice=invoice,
        position=position,
        kind=line.kind,
        description=line.description[:500],
        quantity=line.quantity.quantize(Decimal("0.000001")),
        unit=line.unit,
        unit_price=line.unit_price,
        vat_rate=line.vat_rate,
        net=line.net,
        vat=vat,
        included=line.included,
        reference=line.reference,
    )


def draft_invoice(customer: Customer, year: int, month: int) -> Invoice | None:
    """Create or replace the customer's draft for the month; None when nothing to bill."""
    drafted = _draft(Customer.objects.filter(pk=customer.pk), year, month)
    return drafted[0] if drafted else None


def run_month(year: int, month: int, *, batch: int = 1000) -> int:
    """Drafts for every customer, a batch of customers at a time; how many were drafted."""
    ids = list(Customer.objects.order_by("number").values_list("pk", flat=True))
    count = 0
    for i in range(0, len(ids), batch):
        count += len(_draft(Customer.objects.filter(pk__in=ids[i : i + batch]), year, month))
    return count


def _next_number(year: int) -> str:
    return INVOICE_NUMBER_FORMAT.format(year=year, seq=take_next(InvoiceSequence, year))


def finalise(invoice: Invoice, on: date | None = None) -> Invoice:
    """Number the invoice from the gapless sequence, make it final (immutable) and store
    its documents (PDF with Factur-X, XML, XRechnung) in the same transaction: if a
    document cannot be made, the number is not taken and the invoice stays a draft."""
    on = on or timezone.localdate()
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.status == Invoice.Status.FINAL:
            return locked
        # An UPDATE, not save(): save() refuses to touch final invoices, and the
        # only way to become final is this one statement.
        Invoice.objects.filter(pk=locked.pk, status=Invoice.Status.DRAFT).update(
            number=_next_number(on.year), issued_on=on, status=Invoice.Status.FINAL
        )
        locked.refresh_from_db()
        documents.store_documents(locked)
    return locked


def credit_note(
    invoice: Invoice, lines: list[tuple[str, Decimal]], on: date | None = None
) -> Invoice:
    """A final credit note against a final invoice: (description, net amount) lines, at
    the invoice's VAT rate; the amounts are credited (negative)."""
    if invoice.status != Invoice.Status.FINAL:
        raise ValueError("only a final invoice can be corrected; change the draft instead")
    rate = invoice.lines.values_list("vat_rate", flat=True).first() or Decimal("0")
    items = [
        invoicing.Line(text, Decimal(1), "item", -abs(amount), rate, "credit")
        for text, amount in lines
    ]
    sums = invoicing.totals(items)
    with transaction.atomic():
        note = Invoice.objects.create(
            customer=invoice.customer,
            kind=Invoice.Kind.CREDIT_NOTE,
            period_start=invoice.period_start,
            period_end=invoice.period_end,
            vat_treatment=invoice.vat_treatment,
            corrects=invoice,
            net_total=sums.net,
            vat_total=sums.vat,
            gross_total=sums.gross,
        )
        InvoiceLine.objects.bulk_create(
            _line_row(note, i, item, vat)
            for i, (item, vat) in enumerate(zip(items, sums.line_vat, strict=True), start=1)
        )
    return finalise(note, on)


def lines_as_rows(invoice: Invoice) -> list[dict[str, Any]]:
    """The lines as plain rows (CSV export, tests)."""
    return [
        {
            "position": line.position,
            "description": line.description,
            "quantity": line.quantity,
            "unit": line.unit,
            "unit_price": line.unit_price,
            "net": line.net,
            "vat_rate": line.vat_rate,
            "vat": line.vat,
            "included": line.included,
        }
        for line in invoice.lines.all()
    ]
