"""The portal's SLA reports and claim form: the window explained, refusals in plain words."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from django.test import Client
from tests.conftest import Tenant
from tests.reports.conftest import berlin, incident

from leitstand.helpdesk.models import Ticket
from leitstand.reports.models import Claim, ClaimRule

pytestmark = pytest.mark.django_db


def form_url(tenant: Tenant, month: str = "2026-11") -> str:
    return f"/portal/claims/reports/{tenant.contract.pk}/claim/?month={month}"


def submit(client: Client, tenant: Tenant, **data: object) -> object:
    payload = {"month": "2026-11", "statement": "The shop was down for two hours."} | data
    return client.post(form_url(tenant), payload)


def test_the_form_explains_the_window_and_takes_the_claim(
    client: Client,
    customer_a: Tenant,
    november_outage: Ticket,
    at: Callable[[datetime], None],
) -> None:
    at(berlin(2026, 12, 3, 9, 0))
    client.force_login(customer_a.user)
    page = client.get(form_url(customer_a)).content.decode()
    assert "within 14 calendar days after the end of the month" in page
    assert "from Dec. 1, 2026 until Dec. 14, 2026" in page
    assert "In November 2026 you reported 1 incident." in page
    assert "99.722 %" in page
    assert "20.00 EUR" in page
    assert "credited on your next invoice" in page
    response = submit(client, customer_a, tickets=[november_outage.pk])
    claim = Claim.objects.get()
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert response.url == f"/portal/claims/{claim.pk}/"  # type: ignore[attr-defined]
    assert claim.customer == customer_a.customer
    assert claim.contract == customer_a.contract
    assert claim.month.isoformat() == "2026-11-01"
    assert claim.submitted_by == customer_a.user
    assert claim.state == Claim.State.SUBMITTED
    assert list(claim.tickets.all()) == [november_outage]
    listing = client.get("/portal/claims/").content.decode()
    assert f'href="/portal/claims/{claim.pk}/"' in listing
    assert "Submitted" in listing
    detail = client.get(f"/portal/claims/{claim.pk}/").content.decode()
    assert november_outage.number in detail
    # seed 002 §2.2 "via the support channel": the helpdesk has a claim ticket for it
    ticket = claim.ticket
    assert ticket is not None
    assert ticket.kind == Ticket.Kind.CLAIM
    assert ticket.customer == customer_a.customer
    assert ticket.asset == customer_a.asset
    assert ticket.verified
    assert ticket.messages.get().body == "The shop was down for two hours."
    assert ticket.number in detail


def test_on_the_15th_day_the_form_refuses_in_plain_words(
    client: Client,
    customer_a: Tenant,
    november_outage: Ticket,
    at: Callable[[datetime], None],
) -> None:
    at(berlin(2026, 12, 15, 0, 30))  # 14 Dec 23:30 UTC, but already the 15th in Berlin
    client.force_login(customer_a.user)
    page = client.get(form_url(customer_a)).content.decode()
    assert "The claim period for this month ended on Dec. 14, 2026." in page
    assert "<textarea" not in page
    response = submit(client, customer_a)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "ended on Dec. 14, 2026" in response.content.decode()  # type: ignore[attr-defined]
    assert not Claim.objects.exists()


def test_the_last_evening_is_still_in_time_in_the_customers_zone(
    client: Client,
    customer_a: Tenant,
    november_outage: Ticket,
    at: Callable[[datetime], None],
) -> None:
    at(berlin(2026, 12, 14, 23, 50))  # 22:50 UTC
    client.force_login(customer_a.user)
    assert submit(client, customer_a).status_code == 302  # type: ignore[attr-defined]
    assert Claim.objects.count() == 1


def test_without_a_reported_incident_the_form_says_so(
    client: Client, customer_a: Tenant, priced: ClaimRule, at: Callable[[datetime], None]
) -> None:
    # monitoring found the outage itself: the customer reported nothing
    incident(customer_a, berlin(2026, 11, 10, 10, 0), channel=Ticket.Channel.MONITORING)
    at(berlin(2026, 12, 3, 9, 0))
    client.force_login(customer_a.user)
    page = client.get(form_url(customer_a)).content.decode()
    assert "In November 2026 you reported 0 incidents." in page
    assert "only possible for a month in which you reported at least one incident" in page
    response = submit(client, customer_a)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert not Claim.objects.exists()


def test_a_month_not_yet_over_cannot_be_claimed(
    client: Client, customer_a: Tenant, november_outage: Ticket, at: Callable[[datetime], None]
) -> None:
    at(berlin(2026, 11, 30, 22, 0))
    client.force_login(customer_a.user)
    response = submit(client, customer_a)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "The month is not over yet" in response.content.decode()  # type: ignore[attr-defined]


def test_one_claim_per_month_and_server(
    client: Client, customer_a: Tenant, november_outage: Ticket, at: Callable[[datetime], None]
) -> None:
    at(berlin(2026, 12, 3, 9, 0))
    client.force_login(customer_a.user)
    assert submit(client, customer_a).status_code == 302  # type: ignore[attr-defined]
    again = client.get(form_url(customer_a)).content.decode()
    assert "You have already submitted a claim for this month" in again
    response = submit(client, customer_a)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "already submitted a claim" in response.content.decode()  # type: ignore[attr-defined]
    assert Claim.objects.count() == 1


def test_a_withdrawn_claim_can_be_filed_again(
    client: Client, customer_a: Tenant, november_outage: Ticket, at: Callable[[datetime], None]
) -> None:
    at(berlin(2026, 12, 3, 9, 0))
    client.force_login(customer_a.user)
    submit(client, customer_a)
    first = Claim.objects.get()
    response = client.post(f"/portal/claims/{first.pk}/", {"action": "withdraw"})
    assert response.status_code == 302  # type: ignore[attr-defined]
    first.refresh_from_db()
    assert first.state == Claim.State.WITHDRAWN
    assert first.ticket is not None
    assert first.ticket.status == Ticket.Status.CLOSED
    # a decided (here: withdrawn) claim cannot be withdrawn again
    client.post(f"/portal/claims/{first.pk}/", {"action": "withdraw"})
    first.refresh_from_db()
    assert first.state == Claim.State.WITHDRAWN
    assert submit(client, customer_a).status_code == 302  # type: ignore[attr-defined]
    assert Claim.objects.filter(state=Claim.State.SUBMITTED).count() == 1


def test_an_empty_statement_is_refused(
    client: Client, customer_a: Tenant, november_outage: Ticket, at: Callable[[datetime], None]
) -> None:
    at(berlin(2026, 12, 3, 9, 0))
    client.force_login(customer_a.user)
    response = submit(client, customer_a, statement="   ")
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert not Claim.objects.exists()


def test_another_customers_tickets_cannot_be_referred_to(
    client: Client,
    customer_a: Tenant,
    customer_b: Tenant,
    november_outage: Ticket,
    at: Callable[[datetime], None],
) -> None:
    foreign = incident(customer_b, berlin(2026, 11, 11, 9, 0))
    at(berlin(2026, 12, 3, 9, 0))
    client.force_login(customer_a.user)
    response = submit(client, customer_a, tickets=[foreign.pk])
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert not Claim.objects.exists()


def test_a_bad_month_is_a_clear_error(
    client: Client, customer_a: Tenant, priced: ClaimRule, at: Callable[[datetime], None]
) -> None:
    at(berlin(2026, 12, 3, 9, 0))
    client.force_login(customer_a.user)
    for url in (
        f"/portal/claims/reports/{customer_a.contract.pk}/?month=2026-13",
        form_url(customer_a, "november"),
    ):
        response = client.get(url)
        assert response.status_code == 400
        assert "write it as YYYY-MM" in response.content.decode()
    response = client.post(form_url(customer_a), {"month": "2026-99", "statement": "x"})
    assert response.status_code == 400
    assert not Claim.objects.exists()


def test_the_report_shows_the_month(
    client: Client, customer_a: Tenant, november_outage: Ticket, at: Callable[[datetime], None]
) -> None:
    at(berlin(2026, 12, 3, 9, 0))
    client.force_login(customer_a.user)
    page = client.get(f"/portal/claims/reports/{customer_a.contract.pk}/").content.decode()
    assert "SLA report alice-server, November 2026" in page
    assert november_outage.number in page
    assert "2:00:00" in page  # two hours down
    assert "Submit a claim for this month" in page
    overview = client.get("/portal/claims/").content.decode()
    assert f"/portal/claims/reports/{customer_a.contract.pk}/claim/?month=2026-11" in overview


def test_other_customers_objects_answer_404(
    client: Client,
    customer_a: Tenant,
    customer_b: Tenant,
    november_outage: Ticket,
    at: Callable[[datetime], None],
) -> None:
    at(berlin(2026, 12, 3, 9, 0))
    incident(customer_b, berlin(2026, 11, 11, 9, 0))
    client.force_login(customer_b.user)
    submit(client, customer_b)
    theirs = Claim.objects.get()
    client.force_login(customer_a.user)
    assert client.get(f"/portal/claims/{theirs.pk}/").status_code == 404
    assert client.post(f"/portal/claims/{theirs.pk}/", {"action": "withdraw"}).status_code == 404
    assert client.get(form_url(customer_b)).status_code == 404
    assert submit(client, customer_b).status_code == 404  # type: ignore[attr-defined]
    assert client.get(f"/portal/claims/reports/{customer_b.contract.pk}/").status_code == 404
    assert "bob-server" not in client.get("/portal/claims/").content.decode()
    theirs.refresh_from_db()
    assert theirs.state == Claim.State.SUBMITTED
    assert Claim.objects.count() == 1


def test_the_pages_speak_german(
    client: Client, customer_a: Tenant, november_outage: Ticket, at: Callable[[datetime], None]
) -> None:
    at(berlin(2026, 12, 3, 9, 0))
    client.force_login(customer_a.user)
    page = client.get(form_url(customer_a), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "14. Dezember 2026" in page
