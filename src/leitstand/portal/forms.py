"""Portal forms: every choice is limited to the customer's own objects."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from leitstand.contracts.models import Asset, Customer
from leitstand.helpdesk.models import Ticket


class TicketForm(forms.Form):
    """Open a ticket: seed 000 I, requests "may be submitted via e-mail, telephone or
    through the customer portal"."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (Ticket.Kind.REQUEST, _("Support request")),
            (Ticket.Kind.INCIDENT, _("Incident")),
            (Ticket.Kind.CHANGE, _("Change request")),
            (Ticket.Kind.RESTORE, _("Restore request")),
        ],
    )
    asset = forms.ModelChoiceField(
        label=_("Server or service"), queryset=Asset.objects.none(), required=False
    )
    subject = forms.CharField(label=_("Subject"), max_length=300)
    body = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 8}))

    def __init__(self, customer: Customer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["asset"].queryset = customer.assets.all()  # type: ignore[attr-defined]


class ReplyForm(forms.Form):
    """Answer on a ticket."""

    body = forms.CharField(label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 6}))
