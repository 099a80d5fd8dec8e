"""Forms of the portal's request pages: every choice is limited to the customer's
own objects, every message is translated."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from leitstand.backups.models import RestoreRequest
from leitstand.contracts.models import AddOn, Asset, Contact, Customer

OTHER = "other"


class ContactChangeForm(forms.Form):
    """Seed 000 VIII: changes to customer data "may only be carried out if the request
    has been verified via the customer portal"; a portal login is that verification."""

    class Change(models.TextChoices):
        ADD = "add", _("Add a person")
        DETAILS = "details", _("Change name, e-mail address or phone")
        ROLES = "roles", _("Change roles")
        REMOVE = "remove", _("Remove a person")

    change = forms.ChoiceField(label=_("What should change?"), choices=Change.choices)
    contact = forms.ModelChoiceField(
        label=_("Person"),
        queryset=Contact.objects.none(),
        required=False,
        empty_label=_("(a new person)"),
    )
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    email = forms.EmailField(
        label=_("E-mail address"),
        required=False,
        help_text=_("A new address is verified by the provider before it counts."),
    )
    phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    may_order_paid_work = forms.BooleanField(label=_("May order paid work"), required=False)
    is_technical = forms.BooleanField(label=_("Technical contact"), required=False)
    is_billing = forms.BooleanField(label=_("Billing contact"), required=False)
    receives_alarms = forms.BooleanField(label=_("Receives alarms"), required=False)
    note = forms.CharField(
        label=_("Anything else"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )

    def __init__(self, customer: Customer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = customer.contacts.all()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        change, contact = data.get("change"), data.get("contact")
        if change == self.Change.ADD and not data.get("name"):
            self.add_error("name", _("Name the new person."))
        if change != self.Change.ADD and contact is None and "contact" not in self.errors:
            self.add_error("contact", _("Choose the person this change is about."))
        if change == self.Change.DETAILS and not (
            data.get("name") or data.get("email") or data.get("phone")
        ):
            self.add_error(None, _("Enter the new name, e-mail address or phone number."))
        return data


class LicenceExpansionForm(forms.Form):
    """Seed 000 VI: "An optional expansion of these limits is available for a fee via
    the customer portal or by e-mail."."""

    asset = forms.ModelChoiceField(label=_("Server or service"), queryset=Asset.objects.none())
    addon = forms.ChoiceField(label=_("Expansion"), choices=())
    extra_user_accounts = forms.IntegerField(
        label=_("Additional user accounts"), min_value=0, max_value=100000, required=False
    )
    extra_concurrent_users = forms.IntegerField(
        label=_("Additional concurrent users"), min_value=0, max_value=100000, required=False
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(
        self, assets: QuerySet[Asset], addons: list[AddOn], *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["asset"].queryset = assets  # type: ignore[attr-defined]
        self.addons = {str(a.pk): a for a in addons}
        self.fields["addon"].choices = [  # type: ignore[attr-defined]
            *((str(a.pk), f"{a.plan}: {a.title}") for a in addons),
            (OTHER, _("Another quantity (the provider makes an offer)")),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        addon = self.addons.get(data.get("addon") or "")
        asset = data.get("asset")
        if addon is not None and asset is not None:
            contract = asset.active_contract()
            if contract is None or contract.plan_id != addon.plan_id:
                self.add_error("addon", _("This expansion is not offered for the chosen server."))
        if data.get("addon") == OTHER and not (
            data.get("extra_user_accounts") or data.get("extra_concurrent_users")
        ):
            self.add_error(None, _("Enter how many accounts or concurrent users you need."))
        data["addon_obj"] = addon
        return data


class RestoreForm(forms.Form):
    """Seed 003 §6: single files, whole folders, accounts and whole servers can be
    restored; seed 000 VII: a restore may be charged if the customer caused it."""

    what = forms.ChoiceField(
        label=_("What should be restored?"),
        choices=RestoreRequest.What.choices,
        widget=forms.RadioSelect,
    )
    target = forms.CharField(
        label=_("Path or name"),
        max_length=500,
        required=False,
        help_text=_("e.g. /var/www/shop/config.php, the account or database name."),
    )
    point_in_time = forms.DateTimeField(
        label=_("State as of"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    destination = forms.ChoiceField(
        label=_("Restore"),
        choices=RestoreRequest.Destination.choices,
        widget=forms.RadioSelect,
        initial=RestoreRequest.Destination.ALONGSIDE,
    )
    cause = forms.ChoiceField(
        label=_("What caused the loss?"),
        choices=RestoreRequest.Cause.choices,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        what = data.get("what")
        if what and what != RestoreRequest.What.SERVER and not (data.get("target") or "").strip():
            self.add_error("target", _("Name the file, folder, account or database."))
        return data


class ProcessExceptionForm(forms.Form):
    """Seed 000 IX: exceptions to the process limits "must be confirmed in writing";
    "There is no entitlement to the implementation of such changes"."""

    asset = forms.ModelChoiceField(label=_("Server"), queryset=Asset.objects.none())
    command = forms.CharField(
        label=_("Program"),
        max_length=200,
        help_text=_("Its command name as the process list shows it, e.g. pg_dump."),
    )
    max_runtime_hours = forms.IntegerField(
        label=_("Allowed runtime (hours)"), min_value=1, max_value=8760, required=False
    )
    max_memory_mib = forms.IntegerField(
        label=_("Allowed memory (MiB)"), min_value=1, max_value=16 * 1024 * 1024, required=False
    )
    reason = forms.CharField(
        label=_("Why is it needed?"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )
    acknowledged = forms.BooleanField(
        label=_(
            "I understand that the exception applies only once it is confirmed in writing, "
            "that there is no entitlement to it, and that it may be adjusted or revoked if "
            "the stable operation of the server or network is impacted."
        )
    )

    def __init__(self, assets: QuerySet[Asset], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["asset"].queryset = assets  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        hours, mib = data.get("max_runtime_hours"), data.get("max_memory_mib")
        data["max_runtime"] = timedelta(hours=hours) if hours else None
        data["max_rss"] = mib * 1024 * 1024 if mib else None
        if not hours and not mib and not self.errors:
            self.add_error(None, _("Ask for a longer runtime, more memory, or both."))
        return data
