"""Restore requests (backups/restores.py): the restore window from the retention, the
price notice from the contract's rate card, and the ticket (seed 000 VII, 003 §6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from tests.conftest import Tenant

from leitstand.backups import restores
from leitstand.backups.models import BackupPolicy, RestoreRequest
from leitstand.billing.models import Rate, RateCard
from leitstand.contracts.catalog import load_file
from leitstand.contracts.models import Plan
from leitstand.core.demo import CATALOG

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def cloudflux(customer_a: Tenant) -> Tenant:
    """Daily backup kept 6 months; the cloudflux rate card prices no restores."""
    load_file(CATALOG)
    customer_a.contract.plan = Plan.objects.get(name="cloudflux-managed-server")
    customer_a.contract.save()
    return customer_a


def test_the_window_is_the_retention(cloudflux: Tenant) -> None:
    six_months = BackupPolicy.objects.get(name="daily-6mo")
    span = restores.window(six_months, NOW)
    assert span.oldest == datetime(2026, 5, 22, 12, 0, tzinfo=UTC)
    assert span.contains(NOW - timedelta(days=100))
    assert not span.contains(span.oldest)  # half-open, as retention.kept
    assert not span.contains(NOW + timedelta(seconds=1))
    fourteen = BackupPolicy.objects.get(name="daily-14d")
    assert restores.window(fourteen, NOW).oldest == NOW - timedelta(days=14)


def test_the_price_comes_from_the_contracts_rate_card(cloudflux: Tenant) -> None:
    assert restores.restore_price(cloudflux.contract) is None  # cloudflux prices no restores
    cloudflux.contract.rate_card = RateCard.objects.get(name="critical-incident")
    cloudflux.contract.save()
    price = restores.restore_price(cloudflux.contract)
    assert price == restores.Price(Decimal("10.00"), "EUR", timedelta(minutes=6))
    notice = restores.billing_notice(price)
    assert "if the cause was created by you or a user of the application" in notice
    assert "10.00 EUR per commenced 6 minutes" in notice
    assert "no entitlement to a free restore" in notice


def test_an_hourly_price(cloudflux: Tenant) -> None:
    card = RateCard.objects.create(name="hourly", increment_seconds=1800)
    Rate.objects.create(card=card, work_type="restore", per_hour=Decimal("120.00"))
    cloudflux.contract.rate_card = card
    cloudflux.contract.save()
    assert "120.00 EUR per hour" in restores.billing_notice(
        restores.restore_price(cloudflux.contract)
    )


def test_no_price_says_so() -> None:
    assert "sets no price for restores" in restores.billing_notice(None)


def test_a_request_opens_a_restore_ticket_and_keeps_the_details(cloudflux: Tenant) -> None:
    point = NOW - timedelta(days=2)
    request = restores.request_restore(
        cloudflux.asset,
        cloudflux.user,
        what="folder",
        target=" /var/www/shop/uploads ",
        point_in_time=point,
        destination="alongside",
        cause="customer",
        note="An editor deleted it.",
        at=NOW,
    )
    assert (request.what, request.target, request.point_in_time, request.cause) == (
        "folder",
        "/var/www/shop/uploads",
        point,
        "customer",
    )
    ticket = request.ticket
    assert (ticket.kind, ticket.verified, ticket.asset) == ("restore", True, cloudflux.asset)
    body = ticket.messages.get().body
    assert "Path or name: /var/www/shop/uploads" in body
    assert "caused by us or a user of the application" in body
    assert "An editor deleted it." in body
    assert request.billable_notice in body


@pytest.mark.parametrize(
    ("what", "target", "ago", "problem"),
    [
        ("file", "/etc/x", timedelta(days=200), "Backups reach back to"),
        ("file", "/etc/x", -timedelta(hours=1), "Backups reach back to"),  # the future
        ("database", "  ", timedelta(days=1), "Name the file, folder"),
    ],
)
def test_impossible_requests_are_refused(
    cloudflux: Tenant, what: str, target: str, ago: timedelta, problem: str
) -> None:
    with pytest.raises(restores.RestoreError, match=problem):
        restores.request_restore(
            cloudflux.asset,
            cloudflux.user,
            what=what,
            target=target,
            point_in_time=NOW - ago,
            destination="original",
            cause="other",
            at=NOW,
        )
    assert not RestoreRequest.objects.exists()


def test_the_whole_server_needs_no_path(cloudflux: Tenant) -> None:
    request = restores.request_restore(
        cloudflux.asset,
        cloudflux.user,
        what="server",
        target="",
        point_in_time=NOW - timedelta(days=1),
        destination="original",
        cause="unknown",
        at=NOW,
    )
    assert request.ticket.subject == "Restore the whole server on alice-server"


def test_no_backup_booked(customer_a: Tenant) -> None:
    with pytest.raises(restores.RestoreError, match="No backup is booked"):
        restores.request_restore(
            customer_a.asset,
            customer_a.user,
            what="server",
            target="",
            point_in_time=NOW,
            destination="original",
            cause="other",
            at=NOW,
        )


def test_staff_see_restore_requests_in_the_admin(client: object, cloudflux: Tenant) -> None:
    from django.test import Client

    from leitstand.accounts.models import User

    assert isinstance(client, Client)
    restores.request_restore(
        cloudflux.asset,
        cloudflux.user,
        what="account",
        target="shop-editor",
        point_in_time=datetime.now(UTC) - timedelta(days=1),
        destination="alongside",
        cause="customer",
    )
    client.force_login(User.objects.create_superuser("root", "root@provider.example", "pw"))
    page = client.get("/admin/backups/restorerequest/").content.decode()
    assert "shop-editor" in page
    assert client.get("/admin/backups/restorerequest/add/").status_code == 403
