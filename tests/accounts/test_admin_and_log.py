"""Helpdesk tools for a lost phone or a locked account, and the security log."""

from __future__ import annotations

import logging
import time

import pytest
from django.test import Client
from tests.accounts.conftest import enrol, password_step
from tests.conftest import PASSWORD, Tenant

from leitstand.accounts import lockout, twofactor
from leitstand.accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client) -> Client:
    admin = User.objects.create_superuser("root", "root@provider.example", PASSWORD)
    client.force_login(admin)
    return client


def act(client: Client, action: str, *users: User):  # type: ignore[no-untyped-def]
    return client.post(
        "/admin/accounts/user/",
        {"action": action, "_selected_action": [u.pk for u in users]},
    )


def test_staff_remove_a_lost_second_factor(
    admin_client: Client, customer_a: Tenant, customer_b: Tenant
) -> None:
    enrol(customer_a.user, time.time() - 60)
    enrol(customer_b.user, time.time() - 60)
    assert act(admin_client, "remove_second_factor", customer_a.user).status_code == 302
    assert not twofactor.has_device(customer_a.user)
    assert twofactor.recovery_codes_left(customer_a.user) == 0
    assert twofactor.has_device(customer_b.user)  # only the chosen user
    assert password_step(Client(), "C90001", "alice").url == "/"


def test_staff_unlock_a_locked_account(admin_client: Client, customer_a: Tenant) -> None:
    for _ in range(lockout.MAX_FAILURES):
        password_step(Client(), "C90001", "alice", "wrong")
    customer_a.user.refresh_from_db()
    assert lockout.is_locked(customer_a.user)
    act(admin_client, "unlock", customer_a.user)
    customer_a.user.refresh_from_db()
    assert not lockout.is_locked(customer_a.user)
    assert password_step(Client(), "C90001", "alice").url == "/"


def test_customer_users_never_reach_the_admin(client: Client, customer_a: Tenant) -> None:
    client.force_login(customer_a.user)
    response = act(client, "unlock", customer_a.user)
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


def test_security_events_are_logged_without_secrets(
    client: Client, customer_a: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="leitstand.security"):
        for _ in range(lockout.MAX_FAILURES):
            password_step(client, "C90001", "alice", "hunter2-wrong")
        User.objects.filter(pk=customer_a.user.pk).update(locked_until=None)
        password_step(client, "C90001", "alice")
    text = caplog.text
    assert f"user {customer_a.user.pk} locked for 15 minutes" in text
    assert f"login: user {customer_a.user.pk} from 127.0.0.1" in text
    assert "hunter2" not in text
    assert PASSWORD not in text
