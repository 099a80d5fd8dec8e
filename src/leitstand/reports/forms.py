"""Claim forms: the customer's claim, the operator's decision."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from leitstand.helpdesk.models import Ticket
from leitstand.reports.models import Claim


def _ticket_label(ticket: Ticket) -> str:
    return f"{ticket.number}: {ticket.subject}"


class ClaimForm(forms.Form):
    """The customer's statement and the incidents it refers to (only their own)."""

    statement = forms.CharField(
        label=_("What happened, and what do you claim?"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    tickets = forms.ModelMultipleChoiceField(
        label=_("Incidents this claim refers to"),
        queryset=Ticket.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, incidents: QuerySet[Ticket], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["tickets"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = incidents
        field.label_from_instance = _ticket_label  # type: ignore[method-assign, assignment]


class DecisionForm(forms.Form):
    """Accept, accept in part (with the amount) or reject (with the reason)."""

    state = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (Claim.State.ACCEPTED, _("Accept: grant the computed compensation")),
            (Claim.State.PARTLY_ACCEPTED, _("Accept in part: grant a smaller amount")),
            (Claim.State.REJECTED, _("Reject")),
        ],
        widget=forms.RadioSelect,
    )
    amount = forms.DecimalField(
        label=_("Amount granted (net, for a partial acceptance)"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=10,
        decimal_places=2,
    )
    reason = forms.CharField(
        label=_("Reason (sent to the customer)"),
        required=False,
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
