"""Every model has a working Django admin: list, add form, change form with demo data."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.urls import reverse

from leitstand.accounts.models import User
from leitstand.core.demo import load_demo

pytestmark = pytest.mark.django_db

LEITSTAND_MODELS = [m for m in admin.site._registry if m.__module__.startswith("leitstand.")]


def test_all_domain_models_are_registered() -> None:
    names = {m.__name__ for m in LEITSTAND_MODELS}
    assert {
        "User", "Customer", "Contact", "Asset", "Plan", "Contract", "Calendar", "SlaPolicy",
        "RateCard", "ClaimRule", "MaintenanceWindow", "UpdatePolicy", "BackupPolicy",
        "InterventionRule", "RestartPolicy", "ProcessPolicy", "Check",
    } <= names  # fmt: skip


@pytest.mark.parametrize("model", LEITSTAND_MODELS, ids=lambda m: m.__name__)
def test_admin_pages_render(client: Client, model) -> None:  # type: ignore[no-untyped-def]
    load_demo()
    staff = User.objects.get(username="admin")
    client.force_login(staff)
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    assert client.get(changelist).status_code == 200
    assert client.get(changelist + "?q=C10001").status_code == 200
    add = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code
    # Records only the application writes (documents, claims, estimates) are read-only.
    assert add == (200 if admin.site._registry[model].has_add_permission(_request(staff)) else 403)
    obj = model._default_manager.first()
    if obj is not None:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        assert client.get(url).status_code == 200


def _request(user: User) -> HttpRequest:
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_staff_pages_show_demo_customers(client: Client) -> None:
    load_demo()
    client.force_login(User.objects.get(username="admin"))
    page = client.get("/staff/").content.decode()
    assert "C10001" in page
    assert "Webosa Managed Server SLA" in page
    detail = client.get("/staff/customers/C10003/").content.decode()
    assert "lena@stadtwerke-nordhafen.example" in detail
    assert client.get("/staff/customers/C99999/").status_code == 404
