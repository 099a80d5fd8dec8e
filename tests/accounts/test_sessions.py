"""Sessions end after idle and absolute limits; a password change logs out everywhere else."""

from __future__ import annotations

import time

import pytest
import time_machine
from django.test import Client
from tests.accounts.conftest import password_step
from tests.conftest import PASSWORD, Tenant

from leitstand.accounts.models import User

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Tr0ubadour-and-sunlight-42"


@pytest.fixture
def limits(settings):  # type: ignore[no-untyped-def]
    settings.SESSION_IDLE_TIMEOUT = 30 * 60
    settings.SESSION_ABSOLUTE_TIMEOUT = 8 * 3600
    return settings


def test_idle_session_expires_and_asks_to_log_in_again(
    client: Client, customer_a: Tenant, limits
) -> None:  # type: ignore[no-untyped-def]
    start = time.time()
    with time_machine.travel(start, tick=False):
        password_step(client, "C90001", "alice")
    with time_machine.travel(start + 29 * 60, tick=False):
        assert client.get("/portal/").status_code == 200
    # 29 minutes later again: the last request counts, not the login.
    with time_machine.travel(start + 58 * 60, tick=False):
        assert client.get("/portal/").status_code == 200
    with time_machine.travel(start + 58 * 60 + 31 * 60, tick=False):
        response = client.get("/portal/tickets/")
        assert response.url == "/accounts/login/?next=/portal/tickets/"
        assert "_auth_user_id" not in client.session
        page = client.get(response.url)
        assert "Your session has expired. Please log in again." in page.content.decode()


def test_active_session_ends_at_the_absolute_limit(
    client: Client, customer_a: Tenant, limits
) -> None:  # type: ignore[no-untyped-def]
    start = time.time()
    with time_machine.travel(start, tick=False):
        password_step(client, "C90001", "alice")
    for minutes in range(20, 8 * 60, 20):
        with time_machine.travel(start + minutes * 60, tick=False):
            assert client.get("/portal/").status_code == 200, minutes
    with time_machine.travel(start + 8 * 3600 + 60, tick=False):
        assert client.get("/portal/").status_code == 302
        assert "_auth_user_id" not in client.session


def test_staff_sessions_expire_too(client: Client, staff_user: User, limits) -> None:  # type: ignore[no-untyped-def]
    start = time.time()
    with time_machine.travel(start, tick=False):
        client.force_login(staff_user)
        assert client.get("/staff/").status_code == 200
    with time_machine.travel(start + 31 * 60, tick=False):
        assert client.get("/staff/").url == "/accounts/login/?next=/staff/"


def test_password_change_logs_out_every_other_session(client: Client, customer_a: Tenant) -> None:
    elsewhere = Client()
    password_step(elsewhere, "C90001", "alice")
    password_step(client, "C90001", "alice")
    assert elsewhere.get("/portal/").status_code == 200
    weak = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert "This password is entirely numeric." in weak.content.decode()
    wrong_old = client.post(
        "/accounts/password/",
        {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert wrong_old.status_code == 200
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.url == "/accounts/security/"
    assert client.get("/portal/").status_code == 200  # this session stays
    assert elsewhere.get("/portal/").status_code == 302  # every other one is gone
    assert password_step(Client(), "C90001", "alice", NEW_PASSWORD).url == "/"


def test_session_cookie_is_httponly_and_lax(client: Client, customer_a: Tenant) -> None:
    response = password_step(client, "C90001", "alice")
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_login_changes_the_session_key(client: Client, customer_a: Tenant) -> None:
    client.get("/accounts/login/")
    client.session.save()
    before = client.session.session_key
    password_step(client, "C90001", "alice")
    assert client.session.session_key != before


def test_csrf_is_enforced_on_login(customer_a: Tenant) -> None:
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        "/accounts/login/", {"customer_number": "C90001", "login": "alice", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert "_auth_user_id" not in strict.session


def test_account_pages_need_a_login(client: Client) -> None:
    for path in ("/accounts/security/", "/accounts/security/totp/", "/accounts/password/"):
        assert client.get(path).url.startswith("/accounts/login/?next="), path


def test_a_limit_of_zero_is_switched_off(client: Client, customer_a: Tenant, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SESSION_IDLE_TIMEOUT = 0
    settings.SESSION_ABSOLUTE_TIMEOUT = 8 * 3600
    start = time.time()
    with time_machine.travel(start, tick=False):
        password_step(client, "C90001", "alice")
    with time_machine.travel(start + 7 * 3600, tick=False):
        assert client.get("/portal/").status_code == 200  # seven idle hours are fine
    with time_machine.travel(start + 9 * 3600, tick=False):
        assert client.get("/portal/").status_code == 302  # the absolute limit still holds
