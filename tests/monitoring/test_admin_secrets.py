"""The admin shows a check's parameters without its password and keeps the
password when the mask comes back unchanged."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.forms.models import model_to_dict
from django.test import Client
from tests.conftest import Tenant

from leitstand.accounts.models import User
from leitstand.monitoring.admin import MASK, CheckForm, masked, unmasked
from leitstand.monitoring.models import Check

pytestmark = pytest.mark.django_db
SECRET = "s3cret-of-the-customer"


@pytest.fixture
def database_check(customer_a: Tenant) -> Check:
    return Check.objects.create(
        asset=customer_a.asset,
        name="Shop database",
        kind="postgresql",
        params={"host": "db.example", "user": "monitor", "password": SECRET, "database": "shop"},
    )


@pytest.fixture
def admin_client(client: Client, settings: Any) -> Client:
    settings.STAFF_REQUIRE_TOTP = False
    client.force_login(User.objects.create_superuser("root", "root@provider.example", "pw"))
    return client


def form_data(check: Check, **params: Any) -> dict[str, Any]:
    data = {k: v for k, v in model_to_dict(check).items() if v is not None}
    data["params"] = json.dumps({**masked(check.params), **params})
    return data


def test_masking_is_a_round_trip() -> None:
    stored = {"host": "h", "password": SECRET, "user": "u"}
    shown = masked(stored)
    assert shown == {"host": "h", "password": MASK, "user": "u"}
    assert unmasked(shown, stored) == stored
    assert unmasked({**shown, "password": "new"}, stored)["password"] == "new"
    assert masked({"password": ""}) == {"password": ""}  # nothing to hide


def test_the_change_page_never_shows_the_password(
    admin_client: Client, database_check: Check
) -> None:
    page = admin_client.get(f"/admin/monitoring/check/{database_check.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert SECRET not in text
    assert MASK in text
    assert "db.example" in text  # the rest is there to edit


def test_saving_with_the_mask_keeps_the_password(
    admin_client: Client, database_check: Check
) -> None:
    response = admin_client.post(
        f"/admin/monitoring/check/{database_check.pk}/change/",
        form_data(database_check, host="db2.example"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    database_check.refresh_from_db()
    assert database_check.params["host"] == "db2.example"
    assert database_check.params["password"] == SECRET


def test_a_new_password_replaces_the_old(admin_client: Client, database_check: Check) -> None:
    response = admin_client.post(
        f"/admin/monitoring/check/{database_check.pk}/change/",
        form_data(database_check, password="rotated-2026"),
    )
    assert response.status_code == 302
    database_check.refresh_from_db()
    assert database_check.params["password"] == "rotated-2026"


def test_a_new_check_takes_the_password_as_typed(customer_a: Tenant) -> None:
    form = CheckForm(
        data={
            "asset": customer_a.asset.pk,
            "name": "Mail database",
            "kind": "mysql",
            "params": json.dumps({"host": "db.example", "user": "m", "password": MASK}),
            "interval_seconds": 60,
            "retry_interval_seconds": 30,
            "timeout_seconds": 10,
            "max_attempts": 3,
            "priority": "P1",
            "enabled": True,
        }
    )
    assert form.is_valid(), form.errors
    assert form.save().params["password"] == MASK  # nothing stored to restore from
