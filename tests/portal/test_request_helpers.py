"""Small rules behind the request pages: durations in words, who is asking, validity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.conftest import Tenant

from leitstand.contracts.models import Contact, VerifiedEmail
from leitstand.operations.models import ProcessExceptionRequest
from leitstand.portal.requests import contact_of
from leitstand.portal.views_operations import how_often, human_span

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("months", "seconds", "text"),
    [
        (6, 0, "6 months"),
        (1, 0, "1 month"),
        (0, 14 * 86400, "14 days"),
        (0, 86400, "1 day"),
        (0, 7200, "2 hours"),
        (0, 5400, "90 minutes"),
        (0, 30, "1 minute"),  # never "0 minutes" for a real span
        (1, 86400 * 2, "1 month, 2 days"),
        (0, 0, "–"),
    ],
)
def test_human_span(months: int, seconds: int, text: str) -> None:
    assert human_span(months, seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(86400, "daily"), (3600, "every 1 hour"), (7 * 86400, "every 7 days")]
)
def test_how_often(seconds: int, text: str) -> None:
    assert how_often(seconds) == text


@pytest.mark.django_db
def test_the_requester_is_found_by_a_verified_address_only(customer_a: Tenant) -> None:
    assert contact_of(customer_a.customer, customer_a.user) is None  # not verified yet
    VerifiedEmail.objects.filter(contact=customer_a.contact).update(verified_at=T0)
    assert contact_of(customer_a.customer, customer_a.user) == customer_a.contact


@pytest.mark.django_db
def test_an_authorised_contact_wins_when_two_share_the_address(customer_a: Tenant) -> None:
    VerifiedEmail.objects.filter(contact=customer_a.contact).update(verified_at=T0)
    boss = Contact.objects.create(
        customer=customer_a.customer, name="Boss", may_order_paid_work=True
    )
    VerifiedEmail.objects.create(contact=boss, address=customer_a.user.email, verified_at=T0)
    assert contact_of(customer_a.customer, customer_a.user) == boss


@pytest.mark.django_db
def test_another_customers_contact_with_the_same_address_is_never_the_requester(
    customer_a: Tenant, customer_b: Tenant
) -> None:
    VerifiedEmail.objects.create(
        contact=customer_b.contact, address=customer_a.user.email, verified_at=T0
    )
    assert contact_of(customer_a.customer, customer_a.user) is None


def test_a_user_without_an_address_is_nobody() -> None:
    class Anonymous:
        email = ""

    assert contact_of(object(), Anonymous()) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "valid_from", "valid_until", "at", "expected"),
    [
        ("confirmed", T0, None, T0, True),  # from the first moment
        ("confirmed", T0, None, T0 - timedelta(seconds=1), False),
        ("confirmed", T0, T0 + timedelta(days=1), T0 + timedelta(days=1), False),  # half-open
        ("confirmed", T0, T0 + timedelta(days=1), T0 + timedelta(hours=23), True),
        ("requested", T0, None, T0 + timedelta(days=1), False),
        ("revoked", T0, T0 + timedelta(days=9), T0 + timedelta(days=1), False),
        ("declined", None, None, T0, False),
    ],
)
def test_in_force(
    status: str,
    valid_from: datetime | None,
    valid_until: datetime | None,
    at: datetime,
    expected: bool,
) -> None:
    request = ProcessExceptionRequest(
        command="ffmpeg", status=status, valid_from=valid_from, valid_until=valid_until
    )
    assert request.in_force(at) is expected
