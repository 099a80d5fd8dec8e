"""Licence usage against the plan's limits, and the request to expand (seed 000 VI)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from tests.conftest import Tenant

from leitstand.contracts.catalog import load_file
from leitstand.contracts.models import AddOn, Plan
from leitstand.core.demo import CATALOG
from leitstand.helpdesk.models import Ticket
from leitstand.operations.models import LicenceUsage

pytestmark = pytest.mark.django_db


@pytest.fixture
def it_hafen(customer_a: Tenant, customer_b: Tenant) -> Tenant:
    """Both customers on IT-Hafen's plan: 25 accounts, 10 concurrent users."""
    load_file(CATALOG)
    plan = Plan.objects.get(name="it-hafen-managed")
    for tenant in (customer_a, customer_b):
        tenant.contract.plan = plan
        tenant.contract.save()
    return customer_a


def usage(tenant: Tenant, ago: timedelta, accounts: int | None, concurrent: int | None) -> None:
    LicenceUsage.objects.create(
        asset=tenant.asset,
        measured_at=datetime.now(UTC) - ago,
        user_accounts=accounts,
        concurrent_users=concurrent,
        source="agent",
    )


def page(client: Client, tenant: Tenant) -> str:
    client.force_login(tenant.user)
    response = client.get("/portal/licences/")
    assert response.status_code == 200
    return response.content.decode()


def test_usage_against_limits_with_the_peak_of_30_days(client: Client, it_hafen: Tenant) -> None:
    usage(it_hafen, timedelta(days=40), 10, 10)  # too old for the peak
    usage(it_hafen, timedelta(days=3), 21, 9)
    usage(it_hafen, timedelta(hours=1), 24, 4)
    html = page(client, it_hafen)
    assert "24 of 25" in html
    assert "nearly reached" in html
    assert "9 of 10" in html  # the peak, not the latest 4
    assert "now 4" in html


def test_over_the_limit_is_said_in_words(client: Client, it_hafen: Tenant) -> None:
    usage(it_hafen, timedelta(hours=1), 30, 10)
    html = page(client, it_hafen)
    assert "30 of 25" in html
    assert "over the limit" in html
    assert "10 of 10" in html
    assert "limit reached" in html


def test_a_booked_expansion_raises_the_limit(client: Client, it_hafen: Tenant) -> None:
    it_hafen.contract.addons.add(AddOn.objects.get(code="accounts-10"))
    usage(it_hafen, timedelta(hours=1), 30, 3)
    html = page(client, it_hafen)
    assert "30 of 35" in html
    assert "3 of 15" in html


def test_nothing_counted_and_no_limit(client: Client, customer_a: Tenant) -> None:
    html = page(client, customer_a)  # the test plan sets no limits
    assert "no limit" in html
    assert "not counted yet" in html
    assert "Expand the limits" not in html


def test_another_customers_usage_is_not_shown(
    client: Client, it_hafen: Tenant, customer_b: Tenant
) -> None:
    usage(customer_b, timedelta(hours=1), 17, 7)
    html = page(client, it_hafen)
    assert customer_b.asset.name not in html
    assert "17 of 25" not in html


def test_request_an_offered_expansion(client: Client, it_hafen: Tenant) -> None:
    client.force_login(it_hafen.user)
    form = client.get(f"/portal/licences/expand/?asset={it_hafen.asset.pk}").content.decode()
    assert "10 more user accounts" in form
    assert "15.00 EUR" in form
    addon = AddOn.objects.get(code="accounts-10")
    response = client.post(
        "/portal/licences/expand/", {"asset": it_hafen.asset.pk, "addon": addon.pk}
    )
    ticket = Ticket.objects.get()
    assert response.url == f"/portal/tickets/{ticket.number}/"
    assert (ticket.kind, ticket.asset, ticket.verified) == ("change", it_hafen.asset, True)
    body = ticket.messages.get().body
    assert "code accounts-10" in body
    assert "Monthly fee: 15.00 EUR" in body
    assert "Adds 10 user accounts and 5 concurrent users." in body


def test_request_another_quantity(client: Client, it_hafen: Tenant) -> None:
    client.force_login(it_hafen.user)
    client.post(
        "/portal/licences/expand/",
        {"asset": it_hafen.asset.pk, "addon": "other", "extra_concurrent_users": 40},
    )
    body = Ticket.objects.get().messages.get().body
    assert "0 user accounts, 40 concurrent users" in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"addon": "other"}, "Enter how many accounts or concurrent users you need."),
        ({"addon": "other", "extra_user_accounts": -5}, "greater than or equal to 0"),
        ({"addon": "999999"}, "Select a valid choice"),
    ],
)
def test_bad_expansion_requests_are_refused(
    client: Client, it_hafen: Tenant, data: dict[str, object], message: str
) -> None:
    client.force_login(it_hafen.user)
    response = client.post("/portal/licences/expand/", {"asset": it_hafen.asset.pk, **data})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Ticket.objects.exists()


def test_another_customers_asset_cannot_be_expanded(
    client: Client, it_hafen: Tenant, customer_b: Tenant
) -> None:
    client.force_login(it_hafen.user)
    response = client.post(
        "/portal/licences/expand/",
        {"asset": customer_b.asset.pk, "addon": "other", "extra_user_accounts": 5},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Ticket.objects.exists()


def test_an_add_on_of_another_plan_cannot_be_ordered(
    client: Client, it_hafen: Tenant, customer_b: Tenant
) -> None:
    # B is on the test plan now: the IT-Hafen add-on is offered to A's asset only.
    other_plan = Plan.objects.get(name="test-plan")
    extra = AddOn.objects.create(plan=other_plan, code="more", title="More", extra_user_accounts=5)
    it_hafen.contract.plan = other_plan
    it_hafen.contract.save()
    customer_b.contract.plan = Plan.objects.get(name="it-hafen-managed")
    customer_b.contract.save()
    client.force_login(it_hafen.user)
    offered = AddOn.objects.get(code="accounts-10")
    response = client.post(
        "/portal/licences/expand/", {"asset": it_hafen.asset.pk, "addon": offered.pk}
    )
    assert "Select a valid choice" in response.content.decode()
    assert extra.pk  # the own plan's add-on is what is offered instead
    assert "More" in client.get("/portal/licences/expand/").content.decode()
