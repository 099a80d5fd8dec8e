"""The portal overview: services by state with problems first, open tickets with the
SLA clock that matters next, the next maintenance; and a bounded number of queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from tests.conftest import Tenant

from leitstand.contracts.catalog import load_file
from leitstand.contracts.models import Plan
from leitstand.core.demo import CATALOG
from leitstand.helpdesk import actions as helpdesk
from leitstand.helpdesk.models import Ticket
from leitstand.maintenance.models import PlannedWork
from leitstand.monitoring.models import Check, CheckStatus

pytestmark = pytest.mark.django_db
# A Monday morning in Amsterdam (webosa-office calendar: Mon-Fri 09-17).
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def webosa(customer_a: Tenant) -> Tenant:
    """Customer A on the Webosa plan: P1 tickets get clock-time SLA targets."""
    load_file(CATALOG)
    customer_a.contract.plan = Plan.objects.get(name="webosa-managed")
    customer_a.contract.save()
    return customer_a


def page(client: Client, tenant: Tenant) -> str:
    client.force_login(tenant.user)
    response = client.get("/portal/")
    assert response.status_code == 200
    return response.content.decode()


def test_services_are_counted_by_state_and_problems_named(
    client: Client, customer_a: Tenant
) -> None:
    CheckStatus.objects.create(service_check=customer_a.check, hard_state="ok")
    smtp = Check.objects.create(asset=customer_a.asset, name="SMTP", kind="tcp", params={})
    CheckStatus.objects.create(
        service_check=smtp,
        hard_state="critical",
        summary="connection refused",
        last_change_at=datetime.now(UTC) - timedelta(hours=2),
    )
    Check.objects.create(asset=customer_a.asset, name="Disabled", kind="tcp", enabled=False)
    html = page(client, customer_a)
    assert "2 monitored services" in html
    assert "1 OK" in html
    assert "1 with a problem" in html
    assert "SMTP: critical" in html
    assert "connection refused" in html
    assert "for 2\xa0hours" in html
    assert "Disabled" not in html  # a switched-off check is not a service being watched


def test_another_customers_services_and_tickets_stay_out(
    client: Client, customer_a: Tenant, customer_b: Tenant
) -> None:
    CheckStatus.objects.create(service_check=customer_b.check, hard_state="critical")
    helpdesk.open_ticket(customer_b.customer, "Beta's secret", "x", channel="portal")
    html = page(client, customer_a)
    assert customer_b.asset.name not in html
    assert "Beta&#x27;s secret" not in html
    assert "Beta's secret" not in html
    assert "with a problem" not in html


def test_open_tickets_show_the_next_deadline_and_what_is_left(
    client: Client, webosa: Tenant, staff_user: object
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        ticket = helpdesk.open_ticket(
            webosa.customer, "Shop down", "500", channel="portal", priority="P1", asset=webosa.asset
        )
    with time_machine.travel(MONDAY + timedelta(minutes=20), tick=False):
        html = page(client, webosa)
    assert ticket.number in html
    assert "initial response" in html
    assert "running" in html
    assert "40\xa0minutes left" in html


def test_a_breached_ticket_comes_first_and_is_counted(client: Client, webosa: Tenant) -> None:
    with time_machine.travel(MONDAY, tick=False):
        late = helpdesk.open_ticket(
            webosa.customer, "Old outage", "x", channel="portal", priority="P1", asset=webosa.asset
        )
    with time_machine.travel(MONDAY + timedelta(hours=1, minutes=30), tick=False):
        fresh = helpdesk.open_ticket(
            webosa.customer, "New outage", "x", channel="portal", priority="P1", asset=webosa.asset
        )
        html = page(client, webosa)
    assert "1 past its deadline" in html
    assert html.index(late.number) < html.index(fresh.number)
    assert "breached" in html
    assert "30\xa0minutes over" in html


def test_a_ticket_waiting_for_the_customer_is_paused(client: Client, webosa: Tenant) -> None:
    with time_machine.travel(MONDAY, tick=False):
        ticket = helpdesk.open_ticket(
            webosa.customer, "Question", "x", channel="portal", priority="P1", asset=webosa.asset
        )
        helpdesk.set_status(ticket, Ticket.Status.WAITING)
    with time_machine.travel(MONDAY + timedelta(minutes=10), tick=False):
        html = page(client, webosa)
    assert "paused, waiting for you" in html
    assert "1 waiting for your answer" in html


def test_closed_tickets_are_not_on_the_overview(client: Client, customer_a: Tenant) -> None:
    done = helpdesk.open_ticket(customer_a.customer, "Done long ago", "x", channel="portal")
    helpdesk.set_status(done, Ticket.Status.CLOSED)
    html = page(client, customer_a)
    assert done.number not in html
    assert "No open tickets." in html


def test_a_ticket_without_sla_says_so(client: Client, customer_a: Tenant) -> None:
    helpdesk.open_ticket(customer_a.customer, "Question", "x", channel="portal")
    assert "no agreed deadline" in page(client, customer_a)


def test_only_the_most_urgent_tickets_are_listed_with_a_link_to_all(
    client: Client, customer_a: Tenant
) -> None:
    for i in range(27):
        helpdesk.open_ticket(customer_a.customer, f"Request {i}", "x", channel="portal")
    html = page(client, customer_a)
    assert "27 open tickets" in html
    assert "All 27 open tickets" in html
    assert html.count('href="/portal/tickets/LS-') == 25


def test_next_maintenance_is_shown_and_marked_when_in_progress(
    client: Client, customer_a: Tenant
) -> None:
    now = datetime.now(UTC)
    work = PlannedWork.objects.create(
        title="Kernel update",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=1),
    )
    work.assets.add(customer_a.asset)
    html = page(client, customer_a)
    assert "Kernel update" in html
    assert "in progress" in html


def test_the_number_of_queries_does_not_grow_with_services(
    client: Client, customer_a: Tenant, django_assert_max_num_queries: object
) -> None:
    for i in range(60):
        check = Check.objects.create(asset=customer_a.asset, name=f"svc-{i}", kind="tcp")
        CheckStatus.objects.create(service_check=check, hard_state="ok" if i % 7 else "warning")
    client.force_login(customer_a.user)
    with django_assert_max_num_queries(15):  # type: ignore[operator]
        assert client.get("/portal/").status_code == 200


def test_the_number_of_queries_does_not_grow_with_open_tickets(
    client: Client, webosa: Tenant, django_assert_max_num_queries: object
) -> None:
    other = webosa.asset.__class__.objects.create(customer=webosa.customer, name="db-server")
    other.contracts.create(plan=webosa.contract.plan, starts_on=webosa.contract.starts_on)
    for i in range(40):
        ticket = helpdesk.open_ticket(
            webosa.customer,
            f"Outage {i}",
            "x",
            channel="portal",
            priority=("P1", "P2")[i % 2],
            asset=(webosa.asset, other)[i % 2],
        )
        if i % 5 == 0:
            helpdesk.set_status(ticket, Ticket.Status.WAITING)
    client.force_login(webosa.user)
    with django_assert_max_num_queries(15):  # type: ignore[operator]
        html = client.get("/portal/").content.decode()
    assert "40 open tickets" in html
    assert "8 waiting for your answer" in html
