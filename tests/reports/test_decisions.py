"""Claim actions under races and bad input: one decision only, one live claim per
contract and month, amounts exact to the cent."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from tests.conftest import Tenant
from tests.reports.conftest import berlin

from leitstand.accounts.models import User
from leitstand.contracts.models import Plan
from leitstand.helpdesk.models import Ticket
from leitstand.reports import actions
from leitstand.reports.models import Claim


@pytest.fixture
def submitted(customer_a: Tenant, november_outage: Ticket, at: Callable[[datetime], None]) -> Claim:
    at(berlin(2026, 12, 3, 9, 0))
    return actions.submit_claim(customer_a.contract, 2026, 11, "Down.", user=customer_a.user)


@pytest.mark.django_db
def test_amounts_with_more_than_two_decimals_are_refused(
    submitted: Claim, staff_user: User
) -> None:
    with pytest.raises(actions.ClaimError, match="two decimal places"):
        actions.decide(
            submitted, "partly_accepted", user=staff_user, reason="x", amount=Decimal("1.005")
        )
    submitted.refresh_from_db()
    assert submitted.state == Claim.State.SUBMITTED


@pytest.mark.django_db
def test_the_database_keeps_one_live_claim_per_contract_and_month(
    submitted: Claim, customer_a: Tenant
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.create(
            customer=customer_a.customer,
            contract=customer_a.contract,
            month=date(2026, 11, 1),
            submitted_at=timezone.now(),
            statement="twice",
        )


@pytest.mark.django_db
def test_the_database_refuses_a_granted_claim_without_an_amount(
    submitted: Claim,
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.filter(pk=submitted.pk).update(state="accepted", amount=None)


@pytest.mark.django_db
def test_a_contract_without_a_claim_rule_takes_no_claims(
    customer_a: Tenant, november_outage: Ticket, at: Callable[[datetime], None]
) -> None:
    Plan.objects.filter(pk=customer_a.contract.plan_id).update(claim_rule=None)
    customer_a.contract.plan.refresh_from_db()
    at(berlin(2026, 12, 3, 9, 0))
    with pytest.raises(actions.ClaimError, match="no penalty compensation"):
        actions.submit_claim(customer_a.contract, 2026, 11, "Down.", user=customer_a.user)
    assert not Claim.objects.exists()


@pytest.mark.django_db
def test_a_claim_cannot_refer_to_another_customers_ticket(
    customer_a: Tenant,
    customer_b: Tenant,
    november_outage: Ticket,
    at: Callable[[datetime], None],
) -> None:
    from tests.reports.conftest import incident

    foreign = incident(customer_b, berlin(2026, 11, 12, 9, 0))
    at(berlin(2026, 12, 3, 9, 0))
    with pytest.raises(actions.ClaimError, match="own tickets"):
        actions.submit_claim(
            customer_a.contract, 2026, 11, "Down.", user=customer_a.user, tickets=[foreign]
        )
    assert not Claim.objects.exists()


@pytest.mark.django_db
def test_the_overview_offers_only_months_inside_the_window(
    client: object, customer_a: Tenant, november_outage: Ticket, at: Callable[[datetime], None]
) -> None:
    from django.test import Client

    assert isinstance(client, Client)
    claim_link = f"/portal/claims/reports/{customer_a.contract.pk}/claim/?month="
    at(berlin(2026, 12, 14, 20, 0))
    client.force_login(customer_a.user)
    assert f"{claim_link}2026-11" in client.get("/portal/claims/").content.decode()
    at(berlin(2026, 12, 15, 8, 0))
    client.force_login(customer_a.user)  # sessions expire; the clock moved overnight
    page = client.get("/portal/claims/").content.decode()
    assert claim_link not in page
    # reports go back six months, not before the contract started (1 January 2026)
    assert "?month=2026-07" in page
    assert "?month=2026-06" not in page


@pytest.mark.django_db
def test_the_staff_list_filters_by_state(
    client: object, submitted: Claim, staff_user: User
) -> None:
    from django.test import Client

    assert isinstance(client, Client)
    client.force_login(staff_user)
    link = f'href="/staff/claims/{submitted.pk}/"'
    assert link in client.get("/staff/claims/").content.decode()
    assert link not in client.get("/staff/claims/?state=accepted").content.decode()
    actions.decide(submitted, "accepted", user=staff_user)
    assert link not in client.get("/staff/claims/").content.decode()
    assert link in client.get("/staff/claims/?state=accepted").content.decode()
    assert link in client.get("/staff/claims/?state=all").content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_operators_deciding_at_once_leave_one_decision(
    customer_a: Tenant, november_outage: Ticket, at: Callable[[datetime], None]
) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers anyway; the race needs PostgreSQL")
    at(berlin(2026, 12, 3, 9, 0))
    claim = actions.submit_claim(customer_a.contract, 2026, 11, "Down.", user=customer_a.user)
    first = User.objects.create_user("first", is_staff=True)
    second = User.objects.create_user("second", is_staff=True)
    start = threading.Barrier(3)
    outcomes: list[str] = []

    def run(work: Callable[[], object], name: str) -> None:
        try:
            start.wait(30)
            work()
            outcomes.append(name)
        except actions.ClaimError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=run, args=(lambda: actions.decide(claim, "accepted", user=first), "accepted")
        ),
        threading.Thread(
            target=run,
            args=(
                lambda: actions.decide(claim, "rejected", user=second, reason="No."),
                "rejected",
            ),
        ),
        threading.Thread(target=run, args=(lambda: actions.withdraw_claim(claim), "withdrawn")),
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert sorted(outcomes).count("refused") == 2
    [winner] = [o for o in outcomes if o != "refused"]
    claim.refresh_from_db()
    assert claim.state == winner
    assert claim.ticket is not None
    # the claim ticket got exactly one answer or closing, not three
    assert claim.ticket.messages.filter(internal=False).count() == (
        1 if winner == "withdrawn" else 2
    )
