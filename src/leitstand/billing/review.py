"""Staff review of the month's drafts: warnings, line corrections with a reason, finalising.

Issue 7: "Monthly invoice run per customer: draft, review by staff, finalise."
Changes to a draft keep the invoice adding up: after every change the VAT is
handed out to the lines again (:func:`leitstand.billing.invoicing.totals`) and
the totals are the sums of the lines. Every change is logged with its reason
and who made it (:class:`~leitstand.billing.models.LineChange`). Running the
month again replaces the drafts, and with them the manual changes: the review
page says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from leitstand.billing import actions, documents, einvoice, invoicing
from leitstand.billing.models import Invoice, InvoiceLine, LineChange
from leitstand.billing.seller import seller
from leitstand.helpdesk.models import TimeEntry


class ReviewError(Exception):
    """A change staff asked for that cannot be made (shown to them as is)."""


def _snapshot(line: InvoiceLine) -> dict[str, str]:
    return {
        "description": line.description,
        "quantity": str(line.quantity),
        "unit": line.unit,
        "unit_price": str(line.unit_price),
        "net": str(line.net),
        "vat": str(line.vat),
    }


def recompute(invoice: Invoice) -> Invoice:
    """Renumber the lines, hand out the VAT again and store the totals (drafts only)."""
    lines = list(invoice.lines.order_by("position"))
    rules = [
        invoicing.Line(
            line.description,
            line.quantity,
            line.unit,
            line.unit_price,
            line.vat_rate,
            line.kind,
            line.included,
            line.reference,
        )
        for line in lines
    ]
    sums = invoicing.totals(rules)
    for position, (line, rule, vat) in enumerate(
        zip(lines, rules, sums.line_vat, strict=True), start=1
    ):
        if (line.position, line.net, line.vat) != (position, rule.net, vat):
            line.position, line.net, line.vat = position, rule.net, vat
            line.save(update_fields=["position", "net", "vat"])
    invoice.net_total, invoice.vat_total, invoice.gross_total = sums.net, sums.vat, sums.gross
    invoice.save(update_fields=["net_total", "vat_total", "gross_total"])
    return invoice


def _draft_line(invoice_id: int, position: int) -> tuple[Invoice, InvoiceLine]:
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    if invoice.status != Invoice.Status.DRAFT:
        raise ReviewError(_("This invoice is final; correct it with a credit note."))
    line = invoice.lines.filter(position=position).first()
    if line is None:
        raise ReviewError(_("This line does not exist (any more)."))
    return invoice, line


def edit_line(
    invoice: Invoice,
    position: int,
    *,
    description: str,
    quantity: Decimal,
    unit_price: Decimal,
    reason: str,
    user: Any,
) -> Invoice:
    """Change a draft line's text, quantity or price, with the reason."""
    if not reason.strip():
        raise ReviewError(_("Please give a reason for the change."))
    with transaction.atomic():
        locked, line = _draft_line(invoice.pk, position)
        before = _snapshot(line)
        line.description = description.strip()[:500]
        line.quantity = quantity
        line.unit_price = unit_price
        if line.included and unit_price:
            line.included = False  # a price set by staff is charged
        line.save()
        recompute(locked)
        line.refresh_from_db()
        LineChange.objects.create(
            invoice=locked,
            position=position,
            action=LineChange.Action.EDIT,
            reason=reason.strip(),
            before=before,
            after=_snapshot(line),
            changed_by=user,
        )
    return locked


def remove_line(invoice: Invoice, position: int, *, reason: str, user: Any) -> Invoice:
    """Remove a draft line, with the reason; its time entries are billed next time."""
    if not reason.strip():
        raise ReviewError(_("Please give a reason for the change."))
    with transaction.atomic():
        locked, line = _draft_line(invoice.pk, position)
        before = _snapshot(line)
        line.delete()
        recompute(locked)
        LineChange.objects.create(
            invoice=locked,
            position=position,
            action=LineChange.Action.REMOVE,
            reason=reason.strip(),
            before=before,
            changed_by=user,
        )
    return locked


@dataclass(frozen=True)
class Outcome:
    """What a finalisation of several drafts did."""

    finalised: list[Invoice]
    failed: list[tuple[Invoice, str]]


def finalise_all(drafts: list[Invoice], on: date | None = None) -> Outcome:
    """Finalise each draft in its own transaction; one that fails leaves the others final."""
    done: list[Invoice] = []
    failed: list[tuple[Invoice, str]] = []
    for draft in drafts:
        try:
            done.append(actions.finalise(draft, on))
        except documents.DocumentError as exc:
            failed.append((draft, str(exc)))
    return Outcome(done, failed)


def warnings(invoice: Invoice, *, deep: bool = True) -> list[str]:
    """What staff should look at before finalising (empty: nothing).

    ``deep`` also builds the e-invoices and checks them (a few milliseconds per
    invoice: the review page does, the month's list does not)."""
    found: list[str] = []
    customer = invoice.customer
    if not (customer.street and customer.postcode and customer.city):
        found.append(_("The customer's address is incomplete (§ 14 UStG needs the full address)."))
    if (
        customer.is_business
        and customer.country.upper() != "DE"
        and customer.country.upper() in invoicing.EU_COUNTRIES
        and not customer.vat_id.strip()
    ):
        found.append(
            _(
                "EU business customer without VAT ID: German VAT is charged instead of "
                "reverse charge."
            )
        )
    if invoice.vat_treatment == invoicing.VatTreatment.REVERSE_CHARGE and not customer.vat_id:
        found.append(_("Reverse charge needs the customer's VAT ID on the invoice."))
    unpriced = (
        invoice.lines.filter(kind="time", included=True)
        .filter(Exists(TimeEntry.objects.filter(invoice_lines=OuterRef("pk"), billable=True)))
        .count()
    )
    if unpriced:
        found.append(
            _("%(count)s time line(s) with billable time the rate card does not price.")
            % {"count": unpriced}
        )
    unordered = (
        invoice.lines.filter(
            kind="time",
            included=True,
            time_entries__billable=False,
            time_entries__ticket__out_of_scope=True,
        )
        .distinct()
        .count()
    )
    if unordered:
        found.append(
            _("%(count)s time line(s) of out-of-scope work not charged (no order or approval).")
            % {"count": unordered}
        )
    if invoice.gross_total < 0:
        found.append(_("The invoice total is negative."))
    if not invoice.lines.exists():
        found.append(_("The invoice has no lines."))
    if seller().is_demo:
        found.append(_("The seller is still the demo company (LEITSTAND_SELLER_*)."))
    if not deep:
        return found
    found.extend(
        _("Not a valid e-invoice: %(problem)s") % {"problem": p}
        for p in documents.problems(invoice, einvoice.FACTURX)
    )
    missing = documents.problems(invoice, einvoice.XRECHNUNG)
    if missing:
        found.append(_("No XRechnung possible: %(problems)s") % {"problems": "; ".join(missing)})
    return found
