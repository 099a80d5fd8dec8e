"""The back office decides claims: the amount from the contract's rule, the reason,
one decision only, and a mail to the customer through a real SMTP server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import pytest
from django.test import Client
from tests.conftest import Tenant
from tests.reports.conftest import SmtpSink, berlin

from leitstand.accounts.models import User
from leitstand.helpdesk.models import Ticket
from leitstand.reports import actions
from leitstand.reports.models import Claim, ClaimRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(customer_a: Tenant, november_outage: Ticket, at: Callable[[datetime], None]) -> Claim:
    at(berlin(2026, 12, 3, 9, 0))
    return actions.submit_claim(
        customer_a.contract,
        2026,
        11,
        "Two hours down.",
        user=customer_a.user,
        tickets=[november_outage],
    )


def decide(client: Client, claim: Claim, **data: str) -> object:
    return client.post(f"/staff/claims/{claim.pk}/", data)


def test_the_decision_page_shows_the_computation(
    client: Client, staff_user: User, claim: Claim
) -> None:
    client.force_login(staff_user)
    page = client.get(f"/staff/claims/{claim.pk}/").content.decode()
    for expected in ("99.722 %", "99.900 %", "200.00 EUR", "10 %", "100.00 EUR", "20.00 EUR"):
        assert expected in page, expected
    assert "Two hours down." in page
    listing = client.get("/staff/claims/").content.decode()
    assert f'href="/staff/claims/{claim.pk}/"' in listing


def test_accepting_grants_the_computed_amount_and_mails_the_customer(
    client: Client,
    staff_user: User,
    claim: Claim,
    customer_a: Tenant,
    smtp: SmtpSink,
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    client.force_login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[attr-defined]
        response = decide(client, claim, state="accepted")
    assert response.status_code == 302  # type: ignore[attr-defined]
    claim.refresh_from_db()
    assert claim.state == Claim.State.ACCEPTED
    assert claim.amount == Decimal("20.00")
    assert claim.computed_amount == Decimal("20.00")
    assert claim.availability == Decimal("99.722")
    assert claim.target == Decimal("99.900")
    assert claim.decided_by == staff_user
    assert claim.notified_at is not None
    [mail] = smtp.received
    assert mail["To"] == customer_a.user.email
    # the customer's language is German (the default of a customer)
    assert "November 2026" in mail["Subject"]
    body = mail.get_content()
    assert "20,00 EUR" in body  # in the customer's language, German by default
    # the same answer on the claim ticket, which is resolved
    ticket = claim.ticket
    assert ticket is not None
    assert ticket.status == Ticket.Status.RESOLVED
    answer = ticket.messages.filter(internal=False).order_by("created_at", "pk").last()
    assert answer is not None
    assert answer.author_user == staff_user
    assert "20,00 EUR" in answer.body
    # a second decision is refused: one decision only
    again = decide(client, claim, state="rejected", reason="changed my mind")
    assert again.status_code == 400  # type: ignore[attr-defined]
    claim.refresh_from_db()
    assert claim.state == Claim.State.ACCEPTED


def test_partial_acceptance_needs_a_smaller_amount_and_a_reason(
    client: Client, staff_user: User, claim: Claim
) -> None:
    client.force_login(staff_user)
    for data in (
        {"state": "partly_accepted", "amount": "10.00"},  # no reason
        {"state": "partly_accepted", "amount": "20.00", "reason": "x"},  # not less
        {"state": "partly_accepted", "amount": "25.00", "reason": "x"},
        {"state": "partly_accepted", "reason": "x"},  # no amount
        {"state": "partly_accepted", "amount": "ten", "reason": "x"},
    ):
        assert decide(client, claim, **data).status_code == 400, data  # type: ignore[attr-defined]
        claim.refresh_from_db()
        assert claim.state == Claim.State.SUBMITTED
    response = decide(
        client, claim, state="partly_accepted", amount="12.50", reason="One hour was yours."
    )
    assert response.status_code == 302  # type: ignore[attr-defined]
    claim.refresh_from_db()
    assert claim.state == Claim.State.PARTLY_ACCEPTED
    assert claim.amount == Decimal("12.50")
    assert claim.computed_amount == Decimal("20.00")
    assert claim.reason == "One hour was yours."


def test_rejecting_needs_a_reason(client: Client, staff_user: User, claim: Claim) -> None:
    client.force_login(staff_user)
    assert decide(client, claim, state="rejected").status_code == 400  # type: ignore[attr-defined]
    assert decide(client, claim, state="nonsense").status_code == 400  # type: ignore[attr-defined]
    response = decide(client, claim, state="rejected", reason="The outage was announced.")
    assert response.status_code == 302  # type: ignore[attr-defined]
    claim.refresh_from_db()
    assert claim.state == Claim.State.REJECTED
    assert claim.amount is None


def test_no_deviation_means_nothing_to_accept(
    client: Client,
    staff_user: User,
    customer_a: Tenant,
    priced: ClaimRule,
    at: Callable[[datetime], None],
) -> None:
    from tests.reports.conftest import incident

    incident(customer_a, berlin(2026, 11, 10, 10, 0))  # reported, but nothing was down
    at(berlin(2026, 12, 3, 9, 0))
    claim = actions.submit_claim(customer_a.contract, 2026, 11, "Slow.", user=customer_a.user)
    client.force_login(staff_user)
    response = decide(client, claim, state="accepted")
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "no compensation" in response.content.decode()  # type: ignore[attr-defined]
    claim.refresh_from_db()
    assert claim.state == Claim.State.SUBMITTED


def test_a_withdrawn_claim_cannot_be_decided(
    client: Client, staff_user: User, claim: Claim
) -> None:
    actions.withdraw_claim(claim)
    client.force_login(staff_user)
    assert decide(client, claim, state="accepted").status_code == 400  # type: ignore[attr-defined]
    claim.refresh_from_db()
    assert claim.state == Claim.State.WITHDRAWN


def test_a_mail_server_that_is_down_does_not_undo_the_decision(
    client: Client,
    staff_user: User,
    claim: Claim,
    smtp: SmtpSink,
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    smtp.refuse = True
    client.force_login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[attr-defined]
        decide(client, claim, state="rejected", reason="Announced maintenance.")
    claim.refresh_from_db()
    assert claim.state == Claim.State.REJECTED
    assert claim.notified_at is None
    assert smtp.received == []
    # the worker's periodic step sends it once the server takes mail again
    smtp.refuse = False
    assert actions.send_pending_notices() == 1
    assert actions.send_pending_notices() == 0
    [mail] = smtp.received
    assert "Announced maintenance." in mail.get_content()


def test_customer_users_never_reach_the_staff_pages(
    client: Client, customer_a: Tenant, claim: Claim
) -> None:
    client.force_login(customer_a.user)
    assert client.get("/staff/claims/").status_code == 404
    assert client.get(f"/staff/claims/{claim.pk}/").status_code == 404
    assert decide(client, claim, state="accepted").status_code == 404  # type: ignore[attr-defined]
    claim.refresh_from_db()
    assert claim.state == Claim.State.SUBMITTED


def test_unknown_claims_answer_404(client: Client, staff_user: User, db: None) -> None:
    client.force_login(staff_user)
    assert client.get("/staff/claims/999999/").status_code == 404
    assert client.get("/staff/claims/?state=bogus").status_code == 200
