"""Named fixtures shared by the whole suite: a staff user and two customers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from django.utils import translation

from leitstand.accounts.models import User
from leitstand.contracts.models import Asset, Contact, Contract, Customer, Plan, VerifiedEmail
from leitstand.monitoring.models import Check

REPO = Path(__file__).resolve().parent.parent
SHARED_SCENARIOS = REPO.parent / "shared" / "scenarios"
PASSWORD = "correct horse battery staple"


@dataclass
class Tenant:
    """A customer with one user, one contact, one asset under contract and one check."""

    customer: Customer
    user: User
    contact: Contact
    asset: Asset
    contract: Contract
    check: Check


@pytest.fixture
def staff_user(db: None) -> User:
    """An operator of the provider."""
    return User.objects.create_user(
        "operator", "operator@provider.example", PASSWORD, is_staff=True
    )


def _tenant(number: str, name: str, login: str) -> Tenant:
    plan, _ = Plan.objects.get_or_create(name="test-plan", defaults={"title": "Test plan"})
    customer = Customer.objects.create(number=number, name=name)
    user = User(customer=customer, login=login, email=f"{login}@{number.lower()}.example")
    user.set_password(PASSWORD)
    user.save()
    contact = Contact.objects.create(customer=customer, name=f"{login.title()} Contact")
    VerifiedEmail.objects.create(contact=contact, address=f"{login}@{number.lower()}.example")
    asset = Asset.objects.create(customer=customer, name=f"{login}-server")
    contract = Contract.objects.create(asset=asset, plan=plan, starts_on=date(2026, 1, 1))
    check = Check.objects.create(
        asset=asset, name="HTTP", kind="http", params={"url": "http://127.0.0.1/"}
    )
    return Tenant(customer, user, contact, asset, contract, check)


@pytest.fixture
def customer_a(db: None) -> Tenant:
    """The customer whose user is logged in in isolation tests."""
    return _tenant("C90001", "Alpha GmbH", "alice")


@pytest.fixture
def customer_b(db: None) -> Tenant:
    """Another customer, whose objects customer A must never see."""
    return _tenant("C90002", "Beta AG", "bob")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    """PBKDF2 with a million rounds makes every login in a test take a second."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the default language. A request of a German-speaking
    user activates German in the thread, and it stays active after the request:
    without this, a later test that renders text would depend on the order."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _sessions_without_time_limits(settings) -> None:  # type: ignore[no-untyped-def]
    """Many tests log a client in and then travel days ahead with time-machine; the
    idle and absolute session limits would log it out. They are tested on their
    own in tests/accounts/test_sessions.py, which switches them back on."""
    settings.SESSION_IDLE_TIMEOUT = 0
    settings.SESSION_ABSOLUTE_TIMEOUT = 0
