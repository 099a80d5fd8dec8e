"""Background jobs of billing: finalising a month's drafts (``leitstand worker``).

Finalising renders a PDF/A-3 and two XML documents per invoice (about a
second each on a small machine; ``leitstand bench billing`` measures it), so a
month of thousands of drafts is no work for one web request. Each invoice is
finalised in its own transaction: a crash or a failing draft loses nothing,
and running the job again picks up the drafts that are still drafts.
"""

from __future__ import annotations

import logging
from datetime import date

from django_tasks import task

from leitstand.billing import review
from leitstand.billing.models import Invoice

log = logging.getLogger(__name__)
# Up to this many drafts are finalised in the request; more go to the worker.
IN_REQUEST = 20


@task()
def finalise_drafts(invoice_ids: list[int], on: str | None = None) -> dict[str, int]:
    """Finalise the given invoices that are still drafts; counts of done and failed."""
    drafts = list(
        Invoice.objects.filter(pk__in=invoice_ids, status=Invoice.Status.DRAFT).order_by(
            "customer__number", "pk"
        )
    )
    outcome = review.finalise_all(drafts, date.fromisoformat(on) if on else None)
    for invoice, problem in outcome.failed:
        log.warning("invoice draft %s not finalised: %s", invoice.pk, problem)
    return {"finalised": len(outcome.finalised), "failed": len(outcome.failed)}
