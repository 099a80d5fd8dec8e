"""Password reset: only to a verified address, never telling who exists, links that expire."""

from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from tests.accounts.conftest import Sink, password_step, run_tasks
from tests.conftest import PASSWORD, Tenant

from leitstand.accounts import lockout
from leitstand.accounts.models import User
from leitstand.accounts.tasks import mail_language, reset_addresses
from leitstand.contracts.models import Contact, VerifiedEmail

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "Tr0ubadour-and-sunlight-42"
SENT = "If the account exists and has a verified e-mail address"


def verify_all(tenant: Tenant) -> None:
    VerifiedEmail.objects.filter(contact=tenant.contact).update(verified_at=timezone.now())


def request_reset(client: Client, number: str, login: str):  # type: ignore[no-untyped-def]
    return client.post("/accounts/password/reset/", {"customer_number": number, "login": login})


def link_in(smtp: Sink) -> str:
    assert len(smtp.messages) == 1, smtp.messages
    _, message = smtp.messages[0]
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    found = re.search(
        r"http://testserver(/accounts/password/reset/[^/\s]+/[^/\s]+/)", body.decode()
    )
    assert found is not None, body
    return found.group(1)


def test_link_goes_by_smtp_to_the_verified_address_and_sets_the_password(
    client: Client, customer_a: Tenant, smtp: Sink
) -> None:
    verify_all(customer_a)
    customer_a.user.language = "en"  # her own choice wins over the customer's German
    customer_a.user.save(update_fields=["language"])
    response = request_reset(client, "C90001", "alice")
    assert response.url == "/accounts/password/reset/sent/"
    assert SENT in client.get(response.url).content.decode()
    assert smtp.messages == []  # the worker sends, not the request
    run_tasks()
    recipients, message = smtp.messages[0]
    assert recipients == ["alice@c90001.example"]
    assert message["Subject"] == "Reset your Leitstand password"
    link = link_in(smtp)

    form = client.get(link, follow=True)
    assert form.status_code == 200
    assert 'name="new_password1"' in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    # Django's validators apply: a short, common password is refused.
    weak = client.post(set_url, {"new_password1": "password", "new_password2": "password"})
    assert "This password is too common." in weak.content.decode()
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.url == "/accounts/password/reset/done/"
    assert password_step(Client(), "C90001", "alice", NEW_PASSWORD).url == "/"
    assert password_step(Client(), "C90001", "alice", PASSWORD).status_code == 200
    # The link works once.
    again = client.get(link, follow=True)
    assert "This link is invalid or has expired." in again.content.decode()


def test_unverified_addresses_get_nothing(client: Client, customer_a: Tenant, smtp: Sink) -> None:
    assert not VerifiedEmail.objects.filter(verified_at__isnull=False).exists()
    response = request_reset(client, "C90001", "alice")
    assert response.url == "/accounts/password/reset/sent/"
    run_tasks()
    assert smtp.messages == []


def test_user_email_that_is_not_a_verified_contact_address_gets_nothing(
    client: Client, customer_a: Tenant, smtp: Sink
) -> None:
    verify_all(customer_a)
    User.objects.filter(pk=customer_a.user.pk).update(email="attacker@evil.example")
    request_reset(client, "C90001", "alice")
    run_tasks()
    assert smtp.messages == []


def test_another_customers_verified_address_is_never_used(
    customer_a: Tenant, customer_b: Tenant
) -> None:
    verify_all(customer_b)
    # Alice claims Bob's verified address as hers: it is not her customer's.
    User.objects.filter(pk=customer_a.user.pk).update(email="bob@c90002.example")
    customer_a.user.refresh_from_db()
    assert reset_addresses(customer_a.user) == []


def test_all_verified_addresses_of_the_users_contact(customer_a: Tenant) -> None:
    verify_all(customer_a)
    VerifiedEmail.objects.create(
        contact=customer_a.contact, address="Alice.Private@Example.org", verified_at=timezone.now()
    )
    VerifiedEmail.objects.create(contact=customer_a.contact, address="pending@example.org")
    colleague = Contact.objects.create(customer=customer_a.customer, name="Colleague")
    VerifiedEmail.objects.create(
        contact=colleague, address="colleague@c90001.example", verified_at=timezone.now()
    )
    assert reset_addresses(customer_a.user) == ["alice.private@example.org", "alice@c90001.example"]


def test_unknown_accounts_get_the_same_answer(
    client: Client, customer_a: Tenant, staff_user: User, smtp: Sink
) -> None:
    verify_all(customer_a)
    answers = {
        request_reset(client, number, login).url
        for number, login in [
            ("C90001", "alice"),
            ("C90001", "nobody"),
            ("C99999", "alice"),
            ("", "nobody"),
            ("", "C90001:alice"),  # the internal user name is no way in
        ]
    }
    assert answers == {"/accounts/password/reset/sent/"}
    run_tasks()
    assert [r for r, _ in smtp.messages] == [["alice@c90001.example"]]


def test_timing_does_not_tell_who_exists(client: Client, customer_a: Tenant, smtp: Sink) -> None:
    verify_all(customer_a)

    def median(login: str) -> float:
        times = []
        for _ in range(15):
            start = time.perf_counter()
            request_reset(client, "C90001", login)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    median("alice"), median("nobody")  # warm up
    known, unknown = median("alice"), median("nobody")
    # The request only queues a job in both cases; the mail goes out later.
    assert abs(known - unknown) < max(known, unknown) * 0.5 + 0.002, (known, unknown)
    assert smtp.messages == []


def test_the_link_expires(client: Client, customer_a: Tenant, smtp: Sink, settings) -> None:  # type: ignore[no-untyped-def]
    verify_all(customer_a)
    request_reset(client, "C90001", "alice")
    run_tasks()
    link = link_in(smtp)
    later = timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    # A timestamp, not an aware datetime: Django's token generator reads the naive
    # local clock, which time-machine keeps consistent only when given a timestamp.
    with time_machine.travel(later.timestamp()):
        page = client.get(link, follow=True)
        assert "This link is invalid or has expired." in page.content.decode()


def test_a_reset_clears_the_lockout_and_ends_other_sessions(
    client: Client, customer_a: Tenant, smtp: Sink
) -> None:
    verify_all(customer_a)
    elsewhere = Client()
    password_step(elsewhere, "C90001", "alice")
    assert elsewhere.get("/portal/").status_code == 200
    for _ in range(lockout.MAX_FAILURES):
        password_step(client, "C90001", "alice", "wrong")
    customer_a.user.refresh_from_db()
    assert lockout.is_locked(customer_a.user)
    request_reset(client, "C90001", "alice")
    run_tasks()
    form = client.get(link_in(smtp), follow=True)
    client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert password_step(client, "C90001", "alice", NEW_PASSWORD).url == "/"
    assert elsewhere.get("/portal/").status_code == 302


def test_staff_reset_goes_to_the_staff_address(
    client: Client, staff_user: User, smtp: Sink
) -> None:
    request_reset(client, "", "operator")
    run_tasks()
    assert [r for r, _ in smtp.messages] == [["operator@provider.example"]]


def test_mail_language_is_the_users_then_the_customers(customer_a: Tenant) -> None:
    user = customer_a.user
    customer_a.customer.language = "de"
    user.language = ""
    assert mail_language(user) == "de"
    user.language = "en"
    assert mail_language(user) == "en"


def test_blank_request_is_a_form_error(client: Client) -> None:
    response = client.post("/accounts/password/reset/", {"customer_number": "", "login": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


def test_repeated_requests_do_not_flood_the_mailbox(
    client: Client, customer_a: Tenant, smtp: Sink
) -> None:
    verify_all(customer_a)
    start = time.time()
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            assert request_reset(client, "C90001", "alice").url == "/accounts/password/reset/sent/"
        run_tasks()
    assert len(smtp.messages) == 1
    with time_machine.travel(start + 6 * 60, tick=False):
        request_reset(client, "C90001", "alice")
        run_tasks()
    assert len(smtp.messages) == 2
