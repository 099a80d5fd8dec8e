"""The checks in Django's admin, with their passwords kept out of sight.

A database or mailbox check logs in with a password of the customer's. The
admin shows the parameters as JSON for editing; a password in there is shown
as a mask and kept when the mask comes back unchanged, so that reading a
check's settings does not hand out a customer's credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from leitstand.monitoring.models import Check

SECRET_KEYS = frozenset({"password"})
MASK = "********"


def masked(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with every non-empty secret replaced by :data:`MASK`."""
    return {
        key: MASK if key in SECRET_KEYS and isinstance(value, str) and value else value
        for key, value in params.items()
    }


def unmasked(params: Mapping[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` as edited, with each secret still showing the mask taken from ``stored``."""
    result = dict(params)
    for key in SECRET_KEYS:
        if result.get(key) == MASK and key in stored:
            result[key] = stored[key]
    return result


class CheckForm(forms.ModelForm):  # type: ignore[type-arg]
    """The check's form with passwords masked in the parameters."""

    class Meta:
        model = Check
        fields = "__all__"  # noqa: DJ007 - the admin edits every field of a check

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        params = self.initial.get("params")
        if isinstance(params, Mapping):
            self.initial["params"] = masked(params)
        self.fields["params"].help_text = _(
            "Passwords show as ******** and stay as they are unless you type a new one."
        )

    def clean_params(self) -> Any:
        params = self.cleaned_data["params"]
        stored = self.instance.params if self.instance.pk else {}
        if isinstance(params, Mapping) and isinstance(stored, Mapping):
            return unmasked(params, stored)
        return params


@admin.register(Check)
class CheckAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = CheckForm
    list_display = ("name", "asset", "kind", "interval_seconds", "priority", "enabled")
    list_filter = ("kind", "priority", "enabled")
    search_fields = ("name", "asset__name", "asset__customer__number")
