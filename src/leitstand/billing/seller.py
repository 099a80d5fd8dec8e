"""Who issues the invoices: the provider's own details, from the environment.

§ 14 Abs. 4 UStG requires "den vollständigen Namen und die vollständige
Anschrift des leistenden Unternehmers" and "die ... Steuernummer oder die ...
Umsatzsteuer-Identifikationsnummer"; XRechnung adds a seller contact (BT-41 to
BT-43) and payment instructions (BG-16). The catalog describes offers, not the
company, so these come from settings:

``settings.BILLING_SELLER`` (a dict with the keys of :class:`Seller`) wins;
otherwise each field is read from ``LEITSTAND_SELLER_<FIELD>`` in the
environment (``LEITSTAND_SELLER_NAME``, ``..._VAT_ID``, ``..._IBAN``, ...);
missing fields fall back to the demo provider below, which is marked as such
on every document (``is_demo``), so a forgotten configuration is noticed on the
first invoice instead of at the tax audit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class Seller:
    """The provider as it appears on invoices."""

    name: str = "Leitstand Demo Hosting GmbH"
    street: str = "Musterstraße 1"
    postcode: str = "10115"
    city: str = "Berlin"
    country: str = "DE"
    vat_id: str = "DE123456789"
    tax_number: str = "30/123/45678"
    register: str = "Amtsgericht Berlin-Charlottenburg, HRB 000000"
    managing_directors: str = "Erika Mustermann"
    contact_name: str = "Buchhaltung"
    phone: str = "+49 30 1234567"
    email: str = "billing@leitstand.example"
    iban: str = "DE02120300000000202051"
    bic: str = "BYLADEM1001"
    bank: str = "Deutsche Kreditbank Berlin"
    payment_days: int = 14

    @property
    def is_demo(self) -> bool:
        """True while the demo company is still configured."""
        return self.name == Seller.name


def seller() -> Seller:
    """The configured seller (settings, then environment, then the demo defaults)."""
    configured: dict[str, Any] = dict(getattr(settings, "BILLING_SELLER", None) or {})
    values: dict[str, Any] = {}
    for f in fields(Seller):
        raw = configured.get(f.name, os.environ.get(f"LEITSTAND_SELLER_{f.name.upper()}"))
        if raw is None or raw == "":
            continue
        if f.name == "payment_days":
            try:
                values[f.name] = int(raw)
            except ValueError:
                raise ImproperlyConfigured(
                    f"LEITSTAND_SELLER_PAYMENT_DAYS: expected a number of days, got {raw!r}"
                ) from None
            if values[f.name] < 0:
                raise ImproperlyConfigured("LEITSTAND_SELLER_PAYMENT_DAYS cannot be negative")
        else:
            values[f.name] = str(raw).strip()
    return Seller(**values)
