"""Tenant isolation: a customer sees only its own objects; any other id answers 404.

The walk below enumerates every URL pattern of the portal. A route whose
parameters it cannot fill with another customer's object fails the test, so
a new page cannot be added without being proven isolated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

# (route name, parameter) -> that kind of object's id, taken from a tenant.
PARAMETERS: dict[tuple[str, str], Callable[[Tenant], object]] = {
    ("asset", "asset_id"): lambda t: t.asset.pk,
    ("ticket", "number"): lambda t: t.customer.tickets.get().number,
    ("invoice", "number"): lambda t: t.customer.invoices.get().number,
    ("invoice-csv", "number"): lambda t: t.customer.invoices.get().number,
}
# Routes whose parameter is itself the secret (a signed capability), tested apart.
CAPABILITY_ROUTES = {"maintenance-feed"}


@pytest.fixture(autouse=True)
def tenants_with_everything(customer_a: Tenant, customer_b: Tenant) -> None:
    """Each customer gets a ticket and a final invoice, so every route has an object."""
    from datetime import date

    from leitstand.billing.actions import finalise
    from leitstand.billing.models import Invoice
    from leitstand.helpdesk.actions import open_ticket

    for tenant in (customer_a, customer_b):
        open_ticket(tenant.customer, "Help", "please", channel="portal", asset=tenant.asset)
        draft = Invoice.objects.create(
            customer=tenant.customer,
            period_start=date(2026, 11, 1),
            period_end=date(2026, 11, 30),
            vat_treatment="standard",
        )
        finalise(draft, date(2026, 12, 1))


def walk(
    patterns: list[URLPattern | URLResolver], prefix: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern))
        else:
            yield prefix + str(p.pattern), p


def portal_routes() -> list[tuple[str, URLPattern]]:
    return [
        (route, p) for route, p in walk(get_resolver().url_patterns) if route.startswith("portal/")
    ]


def fill(route: str, pattern: URLPattern, tenant: Tenant) -> str:
    url = "/" + route
    for name in pattern.pattern.converters:
        key = (str(pattern.name), name)
        if key not in PARAMETERS:
            pytest.fail(f"route {route!r} has parameter {name!r} the isolation test does not know")
        value = str(PARAMETERS[key](tenant))
        url = re.sub(rf"<(\w+:)?{name}>", value, url)
    assert "<" not in url, url
    return url


def test_the_portal_has_routes_to_walk() -> None:
    assert len(portal_routes()) >= 2


def test_every_portal_route_answers_404_for_another_customers_ids(
    client: Client, customer_a: Tenant, customer_b: Tenant
) -> None:
    client.force_login(customer_a.user)
    for route, pattern in portal_routes():
        if not pattern.pattern.converters or pattern.name in CAPABILITY_ROUTES:
            continue
        own = client.get(fill(route, pattern, customer_a))
        assert own.status_code == 200, route
        other = client.get(fill(route, pattern, customer_b))
        assert other.status_code == 404, f"{route} leaks customer B's object"


def test_dashboard_lists_only_own_assets(
    client: Client, customer_a: Tenant, customer_b: Tenant
) -> None:
    client.force_login(customer_a.user)
    page = client.get("/portal/").content.decode()
    assert customer_a.asset.name in page
    assert customer_b.asset.name not in page
    assert customer_b.customer.name not in page


def test_staff_pages_are_404_for_customer_users(client: Client, customer_a: Tenant) -> None:
    client.force_login(customer_a.user)
    assert client.get("/staff/").status_code == 404
    assert client.get(f"/staff/customers/{customer_a.customer.number}/").status_code == 404
    assert client.get("/admin/").status_code == 302  # the admin asks for a staff login


def test_portal_is_not_for_staff(client: Client, staff_user) -> None:  # type: ignore[no-untyped-def]
    client.force_login(staff_user)
    assert client.get("/portal/").status_code == 404


def test_anonymous_users_are_sent_to_login(client: Client, customer_a: Tenant) -> None:
    for route, pattern in portal_routes():
        if pattern.name in CAPABILITY_ROUTES:
            continue
        url = fill(route, pattern, customer_a)
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")


def test_draft_invoices_are_not_shown(client: Client, customer_a: Tenant) -> None:
    from datetime import date

    from leitstand.billing.models import Invoice

    draft = Invoice.objects.create(
        customer=customer_a.customer,
        period_start=date(2026, 12, 1),
        period_end=date(2026, 12, 31),
        vat_treatment="standard",
    )
    client.force_login(customer_a.user)
    assert "draft" not in client.get("/portal/invoices/").content.decode().lower()
    assert draft.pk


def test_the_maintenance_feed_needs_a_genuine_token(client: Client, customer_a: Tenant) -> None:
    from django.core import signing

    from leitstand.portal.views import FEED_SALT

    good = signing.dumps(customer_a.customer.pk, salt=FEED_SALT)
    assert client.get(f"/portal/maintenance/{good}.ics").status_code == 200
    forged = signing.dumps(customer_a.customer.pk, salt="another salt")
    assert client.get(f"/portal/maintenance/{forged}.ics").status_code == 404
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    assert client.get(f"/portal/maintenance/{tampered}.ics").status_code == 404
