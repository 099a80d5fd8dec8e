"""Contacts and authorised persons in the portal (seed 000 VIII, seed 001 §4, seed 003 §7)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from tests.conftest import Tenant

from leitstand.contracts.models import Contact, VerifiedEmail
from leitstand.helpdesk.models import Ticket

pytestmark = pytest.mark.django_db


def test_roles_and_verified_addresses_are_shown(client: Client, customer_a: Tenant) -> None:
    boss = Contact.objects.create(
        customer=customer_a.customer, name="Berta Boss", may_order_paid_work=True, is_billing=True
    )
    VerifiedEmail.objects.create(
        contact=boss, address="Berta@Alpha.example", verified_at=datetime(2026, 3, 4, 9, tzinfo=UTC)
    )
    client.force_login(customer_a.user)
    html = client.get("/portal/contacts/").content.decode()
    assert "Berta Boss" in html
    assert "berta@alpha.example: " in html
    assert "verified on 03/04/2026" in html
    assert 'alice@c90001.example: <span class="state-warning">not verified' in html
    row = html[html.index("Berta Boss") : html.index("berta@alpha.example")]
    assert row.count(">yes<") == 2  # may order paid work, billing


def test_another_customers_contacts_are_not_shown(
    client: Client, customer_a: Tenant, customer_b: Tenant
) -> None:
    client.force_login(customer_a.user)
    html = client.get("/portal/contacts/").content.decode()
    assert customer_b.contact.name not in html
    assert "bob@" not in html


def test_a_change_request_is_a_verified_change_ticket(client: Client, customer_a: Tenant) -> None:
    client.force_login(customer_a.user)
    response = client.post(
        "/portal/contacts/change/",
        {
            "change": "roles",
            "contact": customer_a.contact.pk,
            "may_order_paid_work": "on",
            "is_technical": "on",
            "note": "Alice is our new IT lead.",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response.url == f"/portal/tickets/{ticket.number}/"
    assert (ticket.kind, ticket.verified, ticket.channel) == ("change", True, "portal")
    body = ticket.messages.get().body
    assert "Change roles" in body
    assert "May order paid work: yes" in body
    assert "Billing contact: no" in body
    assert "Alice is our new IT lead." in body
    # alice's address is not verified, so she is not a known authorised person
    assert ticket.requester is None
    assert "not a named contact with a verified address" in body


def test_the_requester_is_the_contact_with_the_users_verified_address(
    client: Client, customer_a: Tenant
) -> None:
    VerifiedEmail.objects.filter(contact=customer_a.contact).update(
        verified_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    customer_a.contact.may_order_paid_work = True
    customer_a.contact.save()
    client.force_login(customer_a.user)
    client.post(
        "/portal/contacts/change/", {"change": "add", "name": "Carl New", "email": "C@x.example"}
    )
    ticket = Ticket.objects.get()
    assert ticket.requester == customer_a.contact
    body = ticket.messages.get().body
    assert "who may order paid work" in body
    assert "c@x.example (to be verified)" in body


def test_another_customers_contact_cannot_be_chosen(
    client: Client, customer_a: Tenant, customer_b: Tenant
) -> None:
    client.force_login(customer_a.user)
    response = client.post(
        "/portal/contacts/change/", {"change": "remove", "contact": customer_b.contact.pk}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"change": "add"}, "Name the new person."),
        ({"change": "roles"}, "Choose the person this change is about."),
        ({"change": "details", "contact": "OWN"}, "Enter the new name, e-mail address or phone"),
        ({"change": "add", "name": "X", "email": "not-an-address"}, "Enter a valid email address."),
        ({"change": "explode"}, "Select a valid choice"),
    ],
)
def test_incomplete_requests_get_a_clear_error(
    client: Client, customer_a: Tenant, data: dict[str, str], message: str
) -> None:
    if data.get("contact") == "OWN":
        data["contact"] = str(customer_a.contact.pk)
    client.force_login(customer_a.user)
    response = client.post("/portal/contacts/change/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Ticket.objects.exists()


def test_the_change_link_preselects_only_own_contacts(
    client: Client, customer_a: Tenant, customer_b: Tenant
) -> None:
    client.force_login(customer_a.user)
    own = client.get(f"/portal/contacts/change/?contact={customer_a.contact.pk}").content.decode()
    assert f'<option value="{customer_a.contact.pk}" selected>' in own
    other = client.get(f"/portal/contacts/change/?contact={customer_b.contact.pk}")
    assert other.status_code == 200
    assert customer_b.contact.name not in other.content.decode()
