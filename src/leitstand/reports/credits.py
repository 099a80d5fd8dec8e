"""Accepted claims become a credit line on the customer's next invoice, exactly once.

Issue 7: "SLA compensation from accepted claims (reports issue) becomes a
credit on the next invoice." Seed 002 §2.2: "the applicable penalty
compensation will be paid."

Called by the monthly invoice run (:mod:`leitstand.billing.actions`) inside
the transaction that writes the drafts. A claim is credited on one line at a
time (``Claim.credit_line``): the claims are locked and re-read with
``credit_line IS NULL`` before they are linked, so two runs at once (say
December and January) cannot both credit it: the second waits for the first
and then no longer sees the claim. Replacing a draft deletes its lines, which
frees the claim for the new draft; a final invoice keeps it for good.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from django.db.models import F, Sum
from django.utils import formats, translation
from django.utils.translation import gettext as _

from leitstand.billing import invoicing
from leitstand.billing.models import Invoice, InvoiceLine
from leitstand.lib.money import ZERO, round_cents
from leitstand.reports.models import Claim


def credit_description(claim: Claim) -> str:
    """The line's text, in the customer's language (it is printed on their invoice)."""
    with translation.override(claim.customer.language or "de"):
        return _("SLA compensation %(month)s (%(asset)s), claim %(claim)s") % {
            "month": formats.date_format(claim.month, "YEAR_MONTH_FORMAT"),
            "asset": claim.contract.asset.name,
            "claim": claim.pk,
        }


def credit_accepted_claims(invoices: Sequence[Invoice]) -> int:
    """Add a credit line for every accepted, not yet credited claim of a month
    before each draft's period; returns how many claims were credited.

    The credit carries the VAT of the credited service: the customer's rate,
    as on the fee line (seed 000 VII: prices are net plus VAT). Each rate's VAT
    still equals the rounded VAT of the rate's net sum (EN 16931 BR-CO-17): the
    credit line takes up the rounding difference, the other lines stay as they are.
    """
    drafts = [
        i for i in invoices if i.kind == Invoice.Kind.INVOICE and i.status == Invoice.Status.DRAFT
    ]
    if not drafts:
        return 0
    by_customer = {i.customer_id: i for i in drafts}
    latest = max(i.period_start for i in drafts)
    # No joins in the locking query: PostgreSQL re-checks the WHERE of a row it
    # waited for, so a claim another run just linked drops out here.
    candidates = list(
        Claim.objects.select_for_update()
        .filter(
            customer_id__in=list(by_customer),
            state__in=Claim.CREDITED_STATES,
            credit_line__isnull=True,
            amount__gt=0,
            month__lt=latest,
        )
        .order_by("month", "pk")
    )
    grouped: dict[int, list[Claim]] = defaultdict(list)
    for claim in candidates:
        invoice = by_customer[claim.customer_id]
        if claim.month < invoice.period_start:
            grouped[invoice.pk].append(claim)
    if not grouped:
        return 0
    claims = {
        c.pk: c
        for c in Claim.objects.filter(
            pk__in=[c.pk for g in grouped.values() for c in g]
        ).select_related("customer", "contract__asset")
    }
    credited = 0
    for invoice in drafts:
        group = [claims[c.pk] for c in grouped.get(invoice.pk, [])]
        if group:
            credited += _credit(invoice, group)
    return credited


def _credit(invoice: Invoice, group: list[Claim]) -> int:
    customer = group[0].customer
    vat = invoicing.vat_for(
        customer.country, is_business=customer.is_business, vat_id=customer.vat_id
    )
    rate = vat.rate
    existing = invoice.lines.filter(vat_rate=rate).aggregate(net=Sum("net"), vat=Sum("vat"))
    base_net = existing["net"] or ZERO
    base_vat = existing["vat"] or ZERO
    position = (invoice.lines.order_by("-position").values_list("position", flat=True).first()) or 0
    rows: list[tuple[Claim, InvoiceLine]] = []
    net_sum = vat_sum = ZERO
    for claim in group:
        amount = claim.amount or ZERO
        line = invoicing.Line(
            credit_description(claim),
            Decimal(1),
            "item",
            -amount,
            rate,
            "credit",
            reference=f"claim:{claim.pk}",
        )
        position += 1
        row = InvoiceLine(
            invoice=invoice,
            position=position,
            kind=line.kind,
            description=line.description[:500],
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            vat_rate=line.vat_rate,
            net=line.net,
            vat=line.vat,
            reference=line.reference,
        )
        rows.append((claim, row))
        net_sum += row.net
        vat_sum += row.vat
    # BR-CO-17: the rate's VAT is the rounded VAT of the rate's net; the last
    # credit line absorbs the cent that per-line rounding may have lost.
    target = round_cents((base_net + net_sum) * rate / 100)
    rows[-1][1].vat += target - base_vat - vat_sum
    vat_sum = target - base_vat
    for claim, row in rows:
        row.save()
        updated = Claim.objects.filter(pk=claim.pk, credit_line__isnull=True).update(
            credit_line=row
        )
        if updated != 1:  # pragma: no cover - the row lock above makes this impossible
            raise RuntimeError(f"claim {claim.pk} was credited by another run meanwhile")
    Invoice.objects.filter(pk=invoice.pk).update(
        net_total=F("net_total") + net_sum,
        vat_total=F("vat_total") + vat_sum,
        gross_total=F("gross_total") + net_sum + vat_sum,
    )
    invoice.refresh_from_db(fields=["net_total", "vat_total", "gross_total"])
    return len(rows)
