"""Back office: the claims to decide, and the decision page showing the computation."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from leitstand.core.access import staff_required
from leitstand.reports import actions
from leitstand.reports.forms import DecisionForm
from leitstand.reports.models import Claim
from leitstand.reports.sla import month_report


@staff_required
def claims(request: HttpRequest) -> HttpResponse:
    """Claims by state; the undecided ones first, oldest first (the deadline runs)."""
    state = request.GET.get("state", Claim.State.SUBMITTED)
    if state not in {*Claim.State.values, "all"}:
        state = Claim.State.SUBMITTED
    rows = Claim.objects.select_related("customer", "contract__asset", "credit_line__invoice")
    if state != "all":
        rows = rows.filter(state=state)
    rows = rows.order_by("submitted_at" if state == Claim.State.SUBMITTED else "-submitted_at")
    return render(
        request,
        "reports/staff_claims.html",
        {
            "claims": rows[:500],
            "state": state,
            "states": Claim.State.choices,
            "nav": "claims",
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def claim_detail(request: HttpRequest, claim_id: int) -> HttpResponse:
    """The claim, the month's measurements and the compensation the contract gives;
    accept, accept in part or reject."""
    claim = get_object_or_404(
        Claim.objects.select_related(
            "customer", "contract__asset", "contract__plan", "submitted_by", "decided_by", "ticket"
        ),
        pk=claim_id,
    )
    form = DecisionForm(data=request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.decide(
                    claim,
                    form.cleaned_data["state"],
                    user=request.user,
                    reason=form.cleaned_data["reason"],
                    amount=form.cleaned_data["amount"],
                )
            except actions.ClaimError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("The decision was saved and the customer informed."))
                return redirect("claims_staff:claim", claim_id=claim.pk)
        status = 400
    report = month_report(claim.contract, *claim.year_month)
    return render(
        request,
        "reports/staff_claim.html",
        {
            "claim": claim,
            "report": report,
            "filed_on": claim.submitted_at,
            "tickets": claim.tickets.order_by("created_at"),
            "form": form,
            "nav": "claims",
        },
        status=status,
    )
