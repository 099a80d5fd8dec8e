"""Customer portal: monthly SLA reports, the claim form, the customer's own claims.

Every query starts from ``request.customer``: another customer's contract or
claim id answers 404, because it is not among the objects looked at.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from leitstand.contracts.models import Contract, Customer
from leitstand.core.access import customer_required
from leitstand.helpdesk.models import Ticket
from leitstand.reports import actions
from leitstand.reports.claims import ClaimDecision, open_months
from leitstand.reports.forms import ClaimForm
from leitstand.reports.models import Claim, ClaimRule
from leitstand.reports.sla import (
    MonthReport,
    customer_zone,
    local_today,
    month_report,
    month_span,
    parse_month,
    previous_month,
)

REPORT_MONTHS = 6


def _contracts(customer: Customer) -> QuerySet[Contract]:
    return Contract.objects.filter(asset__customer=customer).select_related(
        "asset", "plan", "claim_rule", "plan__claim_rule"
    )


def _own_contract(request: HttpRequest, contract_id: int) -> Contract:
    return get_object_or_404(_contracts(request.customer), pk=contract_id)  # type: ignore[attr-defined]


def _months_back(today: date, count: int) -> list[tuple[int, int]]:
    months, year, month = [], today.year, today.month
    for _i in range(count):
        months.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months


def _requested_month(
    request: HttpRequest, default: tuple[int, int]
) -> tuple[tuple[int, int], str | None]:
    """The ``month`` parameter, or the default and an error when it is malformed."""
    raw = request.POST.get("month") or request.GET.get("month")
    if raw is None:
        return default, None
    parsed = parse_month(raw)
    if parsed is None:
        return default, _("“%(month)s” is not a month; write it as YYYY-MM, e.g. 2026-11.") % {
            "month": raw[:20]
        }
    return parsed, None


@customer_required
def overview(request: HttpRequest) -> HttpResponse:
    """The customer's claims with their state, and the monthly reports per contract."""
    customer: Customer = request.customer  # type: ignore[attr-defined]
    today = local_today(customer)
    rows: list[dict[str, Any]] = []
    for contract in _contracts(customer).order_by("asset__name", "-starts_on"):
        first_month = (contract.starts_on.year, contract.starts_on.month)
        months = [m for m in _months_back(today, REPORT_MONTHS) if m >= first_month]
        rule = contract.policy("claim_rule")
        claimable = open_months(rule.to_rule(), today) if isinstance(rule, ClaimRule) else []
        rows.append(
            {
                "contract": contract,
                "months": [date(y, m, 1) for y, m in months],
                "claimable": [date(y, m, 1) for y, m in claimable],
            }
        )
    claims = customer.claims.select_related("contract__asset", "credit_line__invoice").order_by(
        "-submitted_at"
    )
    return render(
        request,
        "reports/portal_overview.html",
        {
            "customer": customer,
            "zone": customer_zone(customer),
            "rows": rows,
            "claims": claims,
            "today": today,
        },
    )


def _context(request: HttpRequest, report: MonthReport) -> dict[str, Any]:
    customer: Customer = request.customer  # type: ignore[attr-defined]
    today = local_today(customer)
    decision = report.admissible(today)
    existing = report.contract.claims.filter(
        month=report.month_start,
        state__in=[Claim.State.SUBMITTED, *Claim.CREDITED_STATES],
    ).first()
    return {
        "customer": customer,
        "zone": customer_zone(customer),
        "report": report,
        "contract": report.contract,
        "month": report.month_start,
        "month_param": f"{report.year:04d}-{report.month:02d}",
        "today": today,
        "decision": decision,
        "can_claim": decision == ClaimDecision.ACCEPTED and existing is None,
        "refusal": actions.refusal(decision, report.deadline),
        "existing": existing,
    }


@customer_required
def report(request: HttpRequest, contract_id: int) -> HttpResponse:
    """One contract's month: availability of each priority 1 service against the
    promise, the month's incidents, and whether and until when a claim is possible."""
    customer: Customer = request.customer  # type: ignore[attr-defined]
    contract = _own_contract(request, contract_id)
    (year, month), error = _requested_month(request, previous_month(local_today(customer)))
    context = _context(request, month_report(contract, year, month))
    context["error"] = error
    return render(request, "reports/portal_report.html", context, status=400 if error else 200)


def _incidents(customer: Customer, report: MonthReport) -> QuerySet[Ticket]:
    start, end = month_span(customer, report.year, report.month)
    return customer.tickets.filter(
        Q(kind=Ticket.Kind.INCIDENT), created_at__gte=start, created_at__lt=end
    ).order_by("created_at")


@customer_required
@require_http_methods(["GET", "POST"])
def claim_new(request: HttpRequest, contract_id: int) -> HttpResponse:
    """The claim form, with the claim window explained (seed 002 §2.2); outside the
    window or without a reported incident it says why and takes no claim."""
    customer: Customer = request.customer  # type: ignore[attr-defined]
    contract = _own_contract(request, contract_id)
    today = local_today(customer)
    rule = contract.policy("claim_rule")
    open_now = open_months(rule.to_rule(), today) if isinstance(rule, ClaimRule) else []
    default = open_now[0] if open_now else previous_month(today)
    (year, month), error = _requested_month(request, default)
    monthly = month_report(contract, year, month)
    context = _context(request, monthly)
    form = ClaimForm(_incidents(customer, monthly), data=request.POST or None)
    status = 400 if error else 200
    if request.method == "POST" and not error:
        if form.is_valid():
            try:
                claim = actions.submit_claim(
                    contract,
                    year,
                    month,
                    form.cleaned_data["statement"],
                    user=request.user,
                    tickets=form.cleaned_data["tickets"],
                )
            except actions.ClaimError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, _("Your claim was submitted. We will tell you our decision by e-mail.")
                )
                return redirect("claims:claim", claim_id=claim.pk)
        status = 400
    context.update({"form": form, "error": error})
    return render(request, "reports/portal_claim_new.html", context, status=status)


@customer_required
@require_http_methods(["GET", "POST"])
def claim_detail(request: HttpRequest, claim_id: int) -> HttpResponse:
    """One of the customer's claims: state, decision, and the invoice that credited it;
    withdrawal while it is not yet decided."""
    customer: Customer = request.customer  # type: ignore[attr-defined]
    claim = get_object_or_404(
        customer.claims.select_related("contract__asset", "credit_line__invoice", "ticket"),
        pk=claim_id,
    )
    if request.method == "POST":
        if request.POST.get("action") != "withdraw":
            messages.error(request, _("Unknown action."))
        else:
            try:
                actions.withdraw_claim(claim)
            except actions.ClaimError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Your claim was withdrawn."))
        return redirect("claims:claim", claim_id=claim.pk)
    return render(
        request,
        "reports/portal_claim.html",
        {
            "customer": customer,
            "zone": customer_zone(customer),
            "claim": claim,
            "tickets": claim.tickets.order_by("created_at"),
            "invoice": claim.credited_invoice(),
        },
    )
