"""Forms of the billing back office: every input is checked before an action runs."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from leitstand.billing import exports

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class MonthField(forms.CharField):
    """A month written as YYYY-MM (the value of an ``<input type="month">``)."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "2026-11"})

    def to_python(self, value: Any) -> date | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        match = MONTH.match(text.strip())
        if not match or not 1 <= int(match[2]) <= 12 or not 2000 <= int(match[1]) <= 2100:
            raise forms.ValidationError(_("Enter a month as YYYY-MM, e.g. 2026-11."))
        return date(int(match[1]), int(match[2]), 1)


class PeriodForm(forms.Form):
    """Which month the invoice run and the list are about."""

    month = MonthField(label=_("Month"))


class LineEditForm(forms.Form):
    """A correction of a draft line; the reason is required and logged."""

    description = forms.CharField(label=_("Description"), max_length=500)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=14, decimal_places=6)
    unit_price = forms.DecimalField(label=_("Unit price"), max_digits=14, decimal_places=6)
    reason = forms.CharField(label=_("Reason"), max_length=1000)


class LineRemoveForm(forms.Form):
    """Removing a draft line; the reason is required and logged."""

    reason = forms.CharField(label=_("Reason"), max_length=1000)


class CreditNoteForm(forms.Form):
    """A credit note against a final invoice: what is credited and how much (net)."""

    description = forms.CharField(label=_("Description"), max_length=500)
    amount = forms.DecimalField(
        label=_("Net amount"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )

    def __init__(self, *args: Any, limit: Decimal | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit = limit

    def clean_amount(self) -> Decimal:
        amount: Decimal = self.cleaned_data["amount"]
        if self.limit is not None and amount > self.limit:
            raise forms.ValidationError(
                _("At most %(limit)s can still be credited on this invoice."),
                params={"limit": self.limit},
            )
        return amount


class ExportForm(forms.Form):
    """The selection and format of the CSV export of invoice items."""

    start = MonthField(label=_("From month"))
    end = MonthField(label=_("Until month"))
    customers = forms.CharField(
        label=_("Customer numbers"),
        required=False,
        help_text=_("Separated by commas or spaces; empty for all customers."),
    )
    status = forms.ChoiceField(
        label=_("Invoices"),
        choices=[("final", _("final")), ("draft", _("drafts")), ("all", _("all"))],
        initial="final",
    )
    dialect = forms.ChoiceField(
        label=_("Format"),
        choices=[
            ("excel-de", _("Excel (German): semicolon, decimal comma, UTF-8 with BOM")),
            ("standard", _("Standard CSV: comma, decimal point, UTF-8")),
        ],
        initial="excel-de",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            raise forms.ValidationError(_("The end month lies before the start month."))
        return data

    def customer_numbers(self) -> list[str]:
        return [n for n in re.split(r"[\s,;]+", self.cleaned_data.get("customers") or "") if n]

    def statuses(self) -> list[str]:
        status = self.cleaned_data["status"]
        return ["final", "draft"] if status == "all" else [status]

    def dialect_(self) -> exports.Dialect:
        return exports.DIALECTS[self.cleaned_data["dialect"]]
