"""Tenant isolation: a customer sees only its own objects; any other id answers 404.

The walk below enumerates every URL pattern of the portal. A route whose
parameters it cannot fill with another customer's object fails the test, so
a new page cannot be added without being proven isolated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping

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
    ("estimate", "reference"): lambda t: t.customer.tickets.get().estimates.get().reference,
    ("invoice-csv", "number"): lambda t: t.customer.invoices.get().number,
    ("invoice-pdf", "number"): lambda t: t.customer.invoices.get().number,
    ("invoice-xml", "number"): lambda t: t.customer.invoices.get().number,
    ("sla-report", "contract_id"): lambda t: t.contract.pk,
    # Created on first use, for each tenant: a file on its ticket (in a temporary MEDIA_ROOT).
    ("attachment", "attachment_id"): lambda t: (
        (
            t.customer.tickets.get().attachments.first()
            or __import__("leitstand.helpdesk.attachments", fromlist=["store"]).store(
                t.customer.tickets.get(),
                "report.txt",
                __import__("django.core.files.base", fromlist=["ContentFile"]).ContentFile(b"log"),
                "text/plain",
            )
        ).pk
    ),
    ("claim-new", "contract_id"): lambda t: t.contract.pk,
    # Created on first use, for each tenant: an SLA claim for October.
    ("claim", "claim_id"): lambda t: (
        t.customer.claims.get_or_create(
            contract=t.contract,
            month="2026-10-01",
            defaults={"submitted_at": "2026-11-02T10:00:00Z", "statement": "Down."},
        )[0].pk
    ),
}
# Routes whose parameter is itself the secret (a signed capability), tested apart.
CAPABILITY_ROUTES = {"maintenance-feed"}


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Uploaded files of the walk go to a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def tenants_with_everything(customer_a: Tenant, customer_b: Tenant) -> None:
    """Each customer gets a ticket and a final invoice, so every route has an object."""
    from datetime import UTC, date, datetime, timedelta

    from leitstand.billing.actions import finalise
    from leitstand.billing.models import Invoice
    from leitstand.helpdesk.actions import open_ticket

    for tenant in (customer_a, customer_b):
        ticket = open_ticket(
            tenant.customer, "Help", "please", channel="portal", asset=tenant.asset
        )
        ticket.estimates.create(  # sent, so the customer sees it
            reference=f"{ticket.number}-E1",
            description="Work",
            work_type="support",
            effort=timedelta(hours=1),
            amount="10.00",
            valid_until=datetime(2099, 1, 1, tzinfo=UTC),
            state="sent",
            text="Work",
            created_at=datetime(2026, 11, 1, tzinfo=UTC),
        )
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


def fill(
    route: str,
    pattern: URLPattern,
    tenant: Tenant,
    parameters: Mapping[tuple[str, str], Callable[[Tenant], object]] | None = None,
) -> str:
    """The route's URL with the tenant's objects for its parameters (``PARAMETERS``
    unless given); a parameter the test does not know fails it."""
    parameters = PARAMETERS if parameters is None else parameters
    url = "/" + route
    for name in pattern.pattern.converters:
        key = (str(pattern.name), name)
        if key not in parameters:
            pytest.fail(f"route {route!r} has parameter {name!r} the isolation test does not know")
        value = str(parameters[key](tenant))
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


def sample(route: str, pattern: URLPattern, tenant: Tenant) -> str:
    """A URL of the route with the tenant's own values where they fit (staff routes
    take any id: the customer user must be refused before any lookup)."""
    values = {
        "number": tenant.customer.tickets.get().number,
        "pk": str(tenant.asset.pk),
        "asset_id": str(tenant.asset.pk),
        "contract_id": str(tenant.contract.pk),
    }
    url = "/" + route
    for name, converter in pattern.pattern.converters.items():
        value = values.get(name) or ("1" if type(converter).__name__ == "IntConverter" else "x")
        url = re.sub(rf"<(\w+:)?{name}>", value, url)
    return url


def test_every_staff_route_answers_404_for_customer_users(
    client: Client, customer_a: Tenant
) -> None:
    """A customer must not even learn that a staff page exists: 404, for GET and POST,
    on every staff route there is (walked, not listed)."""
    staff = [(r, p) for r, p in walk(get_resolver().url_patterns) if r.startswith("staff/")]
    assert len(staff) >= 5
    client.force_login(customer_a.user)
    answered = []
    for route, pattern in staff:
        url = sample(route, pattern, customer_a)
        answered += [
            f"GET {url}: {client.get(url).status_code}",
            f"POST {url}: {client.post(url, {}).status_code}",
        ]
    assert [a for a in answered if not a.endswith(": 404")] == []
    assert client.get("/admin/").status_code == 302  # the admin asks for a staff login


# (API route name, parameter) -> an object of that kind belonging to the tenant.
API_PARAMETERS: dict[tuple[str, str], Callable[[Tenant], object]] = {
    ("agent-result", "action_id"): lambda t: t.asset.agent.actions.get().pk,  # type: ignore[attr-defined]
}


def api_routes() -> list[tuple[str, URLPattern]]:
    return [(r, p) for r, p in walk(get_resolver().url_patterns) if r.startswith("api/")]


def enrolled(client: Client, tenant: Tenant) -> str:
    """Enroll the tenant's agent and queue one action; its bearer credentials."""
    import json

    from leitstand.operations import agents

    token = agents.create_enrollment_token(tenant.asset)
    data = client.post(
        "/api/agent/v1/enroll", json.dumps({"token": token}), content_type="application/json"
    ).json()
    tenant.asset.refresh_from_db()
    agents.request_action(tenant.asset.agent, "run_backup", {})  # type: ignore[attr-defined]
    return f"Bearer {data['host_id']}.{data['secret']}"


def test_a_customer_login_opens_no_api_route(client: Client, customer_a: Tenant) -> None:
    """The API answers to host credentials only; a portal session is worth nothing there."""
    enrolled(client, customer_a)
    client.force_login(customer_a.user)
    routes = api_routes()
    assert routes
    for route, pattern in routes:
        url = fill(route, pattern, customer_a, API_PARAMETERS)
        for response in (client.get(url), client.post(url, "{}", content_type="application/json")):
            assert response.status_code in (400, 403, 404, 405), f"{route}: {response.status_code}"


def test_every_api_route_answers_404_for_another_hosts_ids(
    client: Client, customer_a: Tenant, customer_b: Tenant
) -> None:
    import json

    auth = enrolled(client, customer_a)
    enrolled(client, customer_b)
    body = json.dumps({"status": "done", "output": "ok"})
    walked = 0
    for route, pattern in api_routes():
        if not pattern.pattern.converters:
            continue
        urls = {
            tenant.customer.number: fill(route, pattern, tenant, API_PARAMETERS)
            for tenant in (customer_a, customer_b)
        }
        for method in ("get", "post"):

            def call(url: str, method: str = method) -> int:
                if method == "get":
                    return client.get(url, HTTP_AUTHORIZATION=auth).status_code
                return client.post(
                    url, body, content_type="application/json", HTTP_AUTHORIZATION=auth
                ).status_code

            other = call(urls[customer_b.customer.number])
            own = call(urls[customer_a.customer.number])
            if own == 405:
                continue
            walked += 1
            assert own == 200, route
            assert other == 404, f"{route} reaches customer B's object"
    assert walked >= 1


def another_session(tenant: Tenant) -> object:
    """A second browser logged in as the tenant's user: the row the account page can end."""
    from leitstand.accounts.models import LoginSession

    browser = Client()
    browser.force_login(tenant.user)
    return LoginSession.objects.get(session_key=browser.session.session_key).pk


# (account route name, parameter) -> an object of that kind belonging to the tenant's user.
ACCOUNT_PARAMETERS: dict[tuple[str, str], Callable[[Tenant], object]] = {
    ("session-end", "pk"): another_session,
}
# The mailed reset link: its parameters are the secret, tested in tests/accounts.
ACCOUNT_CAPABILITY_ROUTES = {"password-reset-confirm"}


def test_every_account_route_answers_404_for_another_users_ids(
    client: Client, customer_a: Tenant, customer_b: Tenant
) -> None:
    from leitstand.accounts.models import LoginSession

    client.force_login(customer_a.user)
    walked = 0
    for route, pattern in walk(get_resolver().url_patterns):
        if not route.startswith("accounts/") or not pattern.pattern.converters:
            continue
        if pattern.name in ACCOUNT_CAPABILITY_ROUTES:
            continue
        urls = {
            tenant.customer.number: fill(route, pattern, tenant, ACCOUNT_PARAMETERS)
            for tenant in (customer_a, customer_b)
        }
        before = LoginSession.objects.filter(user=customer_b.user).count()
        other = client.post(urls[customer_b.customer.number])
        assert other.status_code == 404, f"{route} reaches customer B's object"
        assert LoginSession.objects.filter(user=customer_b.user).count() == before, route
        assert client.post(urls[customer_a.customer.number]).status_code == 302, route
        walked += 1
    assert walked >= 1


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/portal/backups/restore/", "asset"),
        ("/portal/licences/expand/", "asset"),
        ("/portal/processes/exception/", "asset"),
        ("/portal/contacts/change/", "contact"),
    ],
)
def test_query_parameters_never_reach_another_customers_objects(
    client: Client, customer_a: Tenant, customer_b: Tenant, url: str, param: str
) -> None:
    """Pages that preselect an object by query parameter: another customer's id is
    either 404 or ignored, never shown."""
    other = customer_b.contact.pk if param == "contact" else customer_b.asset.pk
    client.force_login(customer_a.user)
    response = client.get(f"{url}?{param}={other}")
    assert response.status_code in (302, 404, 200)
    if response.status_code == 200:
        page = response.content.decode()
        assert customer_b.asset.name not in page
        assert customer_b.contact.name not in page


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
