"""The claims routes of the portal walked with another customer's ids, using the
portal isolation test's own table (tests/portal/test_isolation.py), so a new
claims route without an entry there fails here too."""

from __future__ import annotations

import pytest
from django.test import Client
from tests.conftest import Tenant
from tests.portal.test_isolation import fill, portal_routes

pytestmark = pytest.mark.django_db


def claims_routes() -> list[tuple[str, object]]:
    return [(r, p) for r, p in portal_routes() if r.startswith("portal/claims/")]


def test_there_are_claims_routes_with_parameters() -> None:
    assert sum(1 for _, p in claims_routes() if p.pattern.converters) >= 3  # type: ignore[attr-defined]


def test_every_claims_route_answers_404_for_another_customers_ids(
    client: Client, customer_a: Tenant, customer_b: Tenant
) -> None:
    client.force_login(customer_a.user)
    for route, pattern in claims_routes():
        own = client.get(fill(route, pattern, customer_a))  # type: ignore[arg-type]
        assert own.status_code == 200, route
        if pattern.pattern.converters:  # type: ignore[attr-defined]
            other = client.get(fill(route, pattern, customer_b))  # type: ignore[arg-type]
            assert other.status_code == 404, f"{route} leaks customer B's object"


def test_anonymous_users_are_sent_to_login(client: Client, customer_a: Tenant) -> None:
    for route, pattern in claims_routes():
        response = client.get(fill(route, pattern, customer_a))  # type: ignore[arg-type]
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")  # type: ignore[attr-defined]


def test_staff_users_do_not_use_the_portal(client: Client, staff_user: object) -> None:
    client.force_login(staff_user)  # type: ignore[arg-type]
    assert client.get("/portal/claims/").status_code == 404
