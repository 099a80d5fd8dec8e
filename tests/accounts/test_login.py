"""Login: staff by user name, customer users by customer number, login and password."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from tests.conftest import PASSWORD, Tenant

from leitstand.accounts.models import User

pytestmark = pytest.mark.django_db


def post_login(client: Client, **data: str):  # type: ignore[no-untyped-def]
    return client.post("/accounts/login/", data)


def test_customer_logs_in_with_number_login_and_password(
    client: Client, customer_a: Tenant
) -> None:
    response = post_login(client, customer_number="C90001", login="alice", password=PASSWORD)
    assert response.status_code == 302
    assert client.get("/").url == "/portal/"
    assert client.get("/portal/").status_code == 200


@pytest.mark.parametrize(
    ("number", "login", "password"),
    [
        ("C90002", "alice", PASSWORD),  # another customer's number
        ("C90001", "alice", "wrong"),
        ("", "C90001:alice", PASSWORD),  # the internal user name is not a way in
        ("C99999", "alice", PASSWORD),
    ],
)
def test_wrong_credentials_get_one_message(
    client: Client, customer_a: Tenant, customer_b: Tenant, number: str, login: str, password: str
) -> None:
    response = post_login(client, customer_number=number, login=login, password=password)
    assert response.status_code == 200
    assert "Customer number, user name or password is wrong." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_staff_logs_in_without_customer_number(client: Client, staff_user: User) -> None:
    assert post_login(client, login="operator", password=PASSWORD).status_code == 302
    assert client.get("/").url == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_login_redirect_stays_on_this_site(client: Client, staff_user: User) -> None:
    response = client.post(
        "/accounts/login/?next=https://evil.example/", {"login": "operator", "password": PASSWORD}
    )
    assert response.url == "/"


def test_a_customer_user_can_never_be_staff(customer_a: Tenant) -> None:
    customer_a.user.is_staff = True
    with pytest.raises(IntegrityError), transaction.atomic():
        customer_a.user.save()


def test_login_names_are_per_customer(customer_a: Tenant, customer_b: Tenant) -> None:
    twin = User(customer=customer_b.customer, login="alice")
    twin.set_password(PASSWORD)
    twin.save()  # same login at another customer is fine
    assert twin.username == "C90002:alice"
    clash = User(customer=customer_a.customer, login="alice")
    with pytest.raises(IntegrityError), transaction.atomic():
        clash.save()


def test_logout_needs_post(client: Client, staff_user: User) -> None:
    client.force_login(staff_user)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/staff/").status_code == 302


def test_lockout_after_five_failures_and_reset_on_success(
    client: Client, customer_a: Tenant
) -> None:
    import time_machine
    from django.utils import timezone

    for _ in range(4):
        post_login(client, customer_number="C90001", login="alice", password="wrong")
    assert (
        post_login(client, customer_number="C90001", login="alice", password=PASSWORD).status_code
        == 302
    )
    client.logout()
    for _ in range(5):
        post_login(client, customer_number="C90001", login="alice", password="wrong")
    locked = post_login(client, customer_number="C90001", login="alice", password=PASSWORD)
    assert locked.status_code == 200
    assert "Too many failed logins. Try again in 15 minutes." in locked.content.decode()
    assert "_auth_user_id" not in client.session
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert (
            post_login(
                client, customer_number="C90001", login="alice", password=PASSWORD
            ).status_code
            == 302
        )


def test_failures_of_one_customer_do_not_lock_another(
    client: Client, customer_a: Tenant, customer_b: Tenant
) -> None:
    for _ in range(6):
        post_login(client, customer_number="C90001", login="alice", password="wrong")
    assert (
        post_login(client, customer_number="C90002", login="bob", password=PASSWORD).status_code
        == 302
    )


def test_the_admin_has_no_login_of_its_own(client: Client, staff_user: User) -> None:
    """Django's admin login would skip the second factor and the lockout."""
    response = client.get("/admin/")
    assert response.status_code == 302
    login = client.get(response.url)
    assert login.url == "/accounts/login/?next=/admin/"
    posted = client.post("/admin/login/", {"username": "operator", "password": PASSWORD})
    assert posted.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/login/?next=https://evil.example/").url == (
        "/accounts/login/?next=/admin/"
    )
    client.post("/accounts/login/?next=/admin/", {"login": "operator", "password": PASSWORD})
    assert client.get("/admin/").status_code in {200, 403}
