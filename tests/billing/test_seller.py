"""The seller on the invoices comes from settings, then the environment, then the demo."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from leitstand.accounts.models import User
from leitstand.billing.seller import Seller, seller


def test_without_configuration_the_demo_company_is_marked(
    monkeypatch: pytest.MonkeyPatch, settings: object
) -> None:
    settings.BILLING_SELLER = None  # type: ignore[attr-defined]
    for name in ("NAME", "VAT_ID", "PAYMENT_DAYS"):
        monkeypatch.delenv(f"LEITSTAND_SELLER_{name}", raising=False)
    assert seller() == Seller()
    assert seller().is_demo


def test_the_environment_configures_the_seller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEITSTAND_SELLER_NAME", "cloudflux GmbH")
    monkeypatch.setenv("LEITSTAND_SELLER_VAT_ID", " DE999999999 ")
    monkeypatch.setenv("LEITSTAND_SELLER_PAYMENT_DAYS", "30")
    provider = seller()
    assert (provider.name, provider.vat_id, provider.payment_days) == (
        "cloudflux GmbH",
        "DE999999999",
        30,
    )
    assert not provider.is_demo


def test_settings_win_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, settings: object
) -> None:
    monkeypatch.setenv("LEITSTAND_SELLER_NAME", "from the environment")
    settings.BILLING_SELLER = {"name": "from settings"}  # type: ignore[attr-defined]
    assert seller().name == "from settings"


@pytest.mark.parametrize("days", ["fourteen", "-1"])
def test_bad_payment_days_name_the_setting(monkeypatch: pytest.MonkeyPatch, days: str) -> None:
    monkeypatch.setenv("LEITSTAND_SELLER_PAYMENT_DAYS", days)
    with pytest.raises(ImproperlyConfigured, match="LEITSTAND_SELLER_PAYMENT_DAYS"):
        seller()


@pytest.mark.django_db
def test_the_admin_lists_billing_profiles_and_documents_read_only(client: Client) -> None:
    admin = User.objects.create_superuser("root", "root@provider.example", "x")
    client.force_login(admin)
    assert client.get("/admin/billing/billingprofile/").status_code == 200
    assert client.get("/admin/billing/billingprofile/add/").status_code == 200
    assert client.get("/admin/billing/invoicedocument/").status_code == 200
    assert client.get("/admin/billing/invoicedocument/add/").status_code == 403
