"""The portal as a customer uses it: tickets, replies, invoices, maintenance, services."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from tests.conftest import Tenant

from leitstand.billing.actions import finalise
from leitstand.billing.models import Invoice, InvoiceLine
from leitstand.helpdesk import actions as helpdesk
from leitstand.helpdesk.models import Ticket
from leitstand.maintenance.models import PlannedWork
from leitstand.monitoring.models import CheckStatus

pytestmark = pytest.mark.django_db


def test_open_a_ticket_and_follow_the_thread(
    client: Client, customer_a: Tenant, staff_user: object
) -> None:
    client.force_login(customer_a.user)
    response = client.post(
        "/portal/tickets/new/",
        {
            "kind": "request",
            "asset": customer_a.asset.pk,
            "subject": "New mailbox",
            "body": "for the intern",
        },
    )
    ticket = Ticket.objects.get()
    assert response.url == f"/portal/tickets/{ticket.number}/"
    assert (ticket.channel, ticket.verified, ticket.requester_email) == (
        "portal",
        True,
        "alice@c90001.example",
    )
    helpdesk.reply(ticket, staff_user, "Done: intern@alpha.example")
    helpdesk.reply(ticket, staff_user, "customer is a bit impatient", internal=True)
    page = client.get(f"/portal/tickets/{ticket.number}/").content.decode()
    assert "Done: intern@alpha.example" in page
    assert "impatient" not in page  # internal notes stay internal
    assert ticket.number in client.get("/portal/tickets/").content.decode()


def test_an_asset_of_another_customer_cannot_be_chosen(
    client: Client, customer_a: Tenant, customer_b: Tenant
) -> None:
    client.force_login(customer_a.user)
    response = client.post(
        "/portal/tickets/new/",
        {"kind": "request", "asset": customer_b.asset.pk, "subject": "x", "body": "y"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_reply_ends_the_wait_for_the_customer(client: Client, customer_a: Tenant) -> None:
    ticket = helpdesk.open_ticket(
        customer_a.customer, "x", "y", channel="portal", asset=customer_a.asset
    )
    helpdesk.set_status(ticket, Ticket.Status.WAITING)
    client.force_login(customer_a.user)
    client.post(f"/portal/tickets/{ticket.number}/", {"body": "here is the log file"})
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.waiting_periods.get().ended_at is not None


def test_final_invoices_with_lines_and_csv(client: Client, customer_a: Tenant) -> None:
    invoice = Invoice.objects.create(
        customer=customer_a.customer,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        vat_treatment="standard",
        net_total=Decimal("140.00"),
        vat_total=Decimal("26.60"),
        gross_total=Decimal("166.60"),
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        position=1,
        kind="time",
        description="LS-1: it_support (40 min)",
        quantity=Decimal(2),
        unit="30 min",
        unit_price=Decimal("70"),
        vat_rate=Decimal("19"),
        net=Decimal("140.00"),
        vat=Decimal("26.60"),
    )
    invoice = finalise(invoice, date(2026, 12, 1))
    client.force_login(customer_a.user)
    assert invoice.number in client.get("/portal/invoices/").content.decode()
    page = client.get(f"/portal/invoices/{invoice.number}/").content.decode()
    assert "LS-1: it_support (40 min)" in page
    assert "166.60" in page
    assert "<td>2 30 min</td><td>70</td>" in page  # no 7E+1
    csv = client.get(f"/portal/invoices/{invoice.number}/csv")
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    assert csv.content.decode().splitlines() == [
        "position;description;quantity;unit;unit_price;net;vat_rate;vat",
        "1;LS-1: it_support (40 min);2;30 min;70;140.00;19.00;26.60",
        ";total;;;;140.00;;26.60",
    ]


def test_maintenance_page_and_ical_feed(
    client: Client, customer_a: Tenant, customer_b: Tenant
) -> None:
    start = timezone.now() + timedelta(days=2)
    work = PlannedWork.objects.create(
        title="Kernel update; reboot",
        description="Short, planned",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
    )
    work.assets.add(customer_a.asset, customer_b.asset)
    client.force_login(customer_a.user)
    page = client.get("/portal/maintenance/").content.decode()
    assert "Kernel update; reboot" in page
    feed_url = page.split("<code>")[1].split("</code>")[0].replace("http://testserver", "")
    client.logout()
    feed = client.get(feed_url)
    assert feed["Content-Type"] == "text/calendar; charset=utf-8"
    body = feed.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n")
    assert "SUMMARY:Kernel update\\; reboot\r\n" in body
    assert f"DTSTART:{start.astimezone(UTC):%Y%m%dT%H%M%SZ}\r\n" in body
    assert customer_a.asset.name in body
    assert customer_b.asset.name not in body  # the other customer's server stays private


def test_service_state_on_the_dashboard_and_asset_page(client: Client, customer_a: Tenant) -> None:
    CheckStatus.objects.create(
        service_check=customer_a.check,
        state="critical",
        hard_state="critical",
        summary="connection refused",
        last_change_at=datetime(2026, 11, 22, 3, tzinfo=UTC),
    )
    client.force_login(customer_a.user)
    assert "HTTP: critical" in client.get("/portal/").content.decode()
    page = client.get(f"/portal/assets/{customer_a.asset.pk}/").content.decode()
    assert "connection refused" in page


def test_pages_in_german(client: Client, customer_a: Tenant) -> None:
    customer_a.user.language = "de"
    client.force_login(customer_a.user)
    page = client.get("/portal/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Ihre Server und Dienste" in page
