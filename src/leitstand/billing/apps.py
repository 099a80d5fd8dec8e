from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "leitstand.billing"
    label = "billing"
    verbose_name = _("Billing")
