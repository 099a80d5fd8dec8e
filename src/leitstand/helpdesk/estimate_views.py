"""Estimates in the back office (create, send, withdraw) and in the portal (approve, decline).

Views parse, authorise, call one function of :mod:`leitstand.helpdesk.estimates`,
render. Every portal query starts from the customer's own tickets: another
customer's estimate is simply not found (404).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.mail.message import BadHeaderError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from leitstand.core.access import customer_required, staff_required
from leitstand.helpdesk import estimates
from leitstand.helpdesk.models import Estimate, Ticket


class EstimateForm(forms.Form):
    """A new estimate: the work, its expected effort and price, how long the offer stands."""

    description = forms.CharField(
        label=gettext_lazy("Work to be done"), widget=forms.Textarea(attrs={"rows": 6})
    )
    work_type = forms.CharField(label=gettext_lazy("Work type"), max_length=50)
    effort_hours = forms.DecimalField(
        label=gettext_lazy("Expected effort (hours)"),
        min_value=Decimal("0.01"),
        max_value=Decimal("10000"),
        decimal_places=2,
    )
    amount = forms.DecimalField(
        label=gettext_lazy("Expected amount in EUR, net"),
        help_text=gettext_lazy("Empty: priced from the contract's rate card."),
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("99999999.99"),
        decimal_places=2,
    )
    valid_days = forms.IntegerField(
        label=gettext_lazy("Valid for (days)"), min_value=1, max_value=365, initial=14
    )


def _work_types(ticket: Ticket) -> list[str]:
    if ticket.contract is None:
        return []
    card = ticket.contract.policy("rate_card")
    if card is None:
        return []
    return sorted(card.rates.values_list("work_type", flat=True))  # type: ignore[attr-defined]


@staff_required
@require_http_methods(["GET", "POST"])
def staff_ticket_estimates(request: HttpRequest, number: str) -> HttpResponse:
    """The ticket's estimates, whether its paid work is ordered, and a form for a new one."""
    ticket = get_object_or_404(Ticket.objects.select_related("customer", "contract"), number=number)
    form = EstimateForm(
        data=request.POST or None,
        initial={"valid_days": estimates.settings_validity().days},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            estimate = estimates.create(
                ticket,
                request.user,
                description=data["description"],
                work_type=data["work_type"],
                effort=timedelta(seconds=int(data["effort_hours"] * 3600)),
                amount=data["amount"],
                valid_until=timezone.now() + timedelta(days=data["valid_days"]),
            )
        except estimates.EstimateError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Draft %(reference)s created.") % {"reference": estimate.reference}
            )
            return redirect("tickets:estimate-detail", number=number, reference=estimate.reference)
    return render(
        request,
        "helpdesk/estimates/staff_list.html",
        {
            "ticket": ticket,
            "estimates": ticket.estimates.select_related("decided_by_contact"),
            "form": form,
            "work_types": _work_types(ticket),
            "order": estimates.order_of(ticket),
            "missing": estimates.approval_missing(ticket),
            "recipients": estimates.authorised_contacts(ticket.customer),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def staff_estimate(request: HttpRequest, number: str, reference: str) -> HttpResponse:
    """One estimate: its text, its state and the proof of the answer; send or withdraw."""
    estimate = get_object_or_404(
        Estimate.objects.select_related(
            "ticket__customer", "decided_by_contact", "decided_by_user", "created_by"
        ),
        ticket__number=number,
        reference=reference,
    )
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "send":
                estimates.send(estimate, request.user)
                messages.success(
                    request,
                    _("The estimate was sent to %(to)s.") % {"to": ", ".join(estimate.sent_to)},
                )
            elif action == "withdraw":
                estimates.withdraw(estimate)
                messages.success(request, _("The estimate was withdrawn."))
            else:
                messages.error(request, _("Unknown action."))
        except estimates.EstimateError as error:
            messages.error(request, str(error))
        except (OSError, BadHeaderError) as error:
            # The mail server refused or is down: the estimate stays a draft.
            messages.error(
                request,
                _("The mail could not be sent (%(error)s); the estimate is still a draft.")
                % {"error": error},
            )
        return redirect("tickets:estimate-detail", number=number, reference=reference)
    preview = estimate.text or estimates.render_text(estimate)
    spent = estimates.recorded(estimate)
    return render(
        request,
        "helpdesk/estimates/staff_detail.html",
        {
            "estimate": estimate,
            "ticket": estimate.ticket,
            "preview": preview,
            "spent_minutes": int(spent.total_seconds() // 60),
            "effort_minutes": int(estimate.effort.total_seconds() // 60),
            "overrun": spent > estimate.effort,
        },
    )


# --------------------------------------------------------------------------
# Portal


def _own_estimates(request: HttpRequest) -> Any:
    customer = request.customer  # type: ignore[attr-defined]
    return Estimate.objects.visible().filter(ticket__customer=customer).select_related("ticket")


@customer_required
def portal_estimates(request: HttpRequest) -> HttpResponse:
    """The customer's estimates: those waiting for an answer first."""
    rows = list(_own_estimates(request).order_by("-sent_at", "-pk")[:200])
    pending = [e for e in rows if e.state == Estimate.State.SENT]
    answered = [e for e in rows if e.state != Estimate.State.SENT]
    return render(
        request,
        "helpdesk/estimates/portal_list.html",
        {
            "customer": request.customer,  # type: ignore[attr-defined]
            "pending": pending,
            "answered": answered,
            "may_approve": estimates.may_approve(request.user),
        },
    )


@customer_required
@require_http_methods(["GET", "POST"])
def portal_estimate(request: HttpRequest, reference: str) -> HttpResponse:
    """One estimate; an authorised contact approves or declines it, others read it."""
    estimate = get_object_or_404(_own_estimates(request), reference=reference)
    may = estimates.may_approve(request.user)
    if request.method == "POST":
        action = request.POST.get("action", "")
        answers = {"approve": estimates.Answer.APPROVE, "decline": estimates.Answer.DECLINE}
        if action not in answers:
            messages.error(request, _("Unknown action."))
        else:
            try:
                estimates.answer_in_portal(
                    estimate,
                    request.user,
                    answers[action],
                    text_sha256=request.POST.get("text_sha256", ""),
                    remote_addr=request.META.get("REMOTE_ADDR", ""),
                    comment=request.POST.get("comment", "")[:2000],
                )
            except estimates.EstimateError as error:
                messages.error(request, str(error))
            else:
                if action == "approve":
                    messages.success(request, _("Thank you: the estimate is approved."))
                else:
                    messages.success(request, _("The estimate is declined."))
        return redirect("portal_helpdesk:estimate", reference=reference)
    return render(
        request,
        "helpdesk/estimates/portal_detail.html",
        {
            "customer": request.customer,  # type: ignore[attr-defined]
            "estimate": estimate,
            "may_approve": may,
            "answerable": estimate.state == Estimate.State.SENT
            and estimate.valid_until > timezone.now(),
        },
    )
