"""The back office in a real browser: its scripts (htmx, uPlot) run under the
production Content-Security-Policy without a single violation or error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from tests.conftest import PASSWORD, Tenant
from tests.e2e.conftest import Visit

from leitstand.accounts.models import User
from leitstand.helpdesk import actions as helpdesk
from leitstand.helpdesk.models import Ticket
from leitstand.monitoring.models import CheckResult, CheckStatus

pytestmark = pytest.mark.django_db(transaction=True)


def open_incident(tenant: Tenant) -> Ticket:
    """A customer's portal ticket about the tenant's server."""
    return helpdesk.open_ticket(
        tenant.customer,
        "Website down",
        "Our shop does not load.",
        channel=Ticket.Channel.PORTAL,
        kind=Ticket.Kind.INCIDENT,
        asset=tenant.asset,
    )


def staff_log_in(visit: Visit) -> None:
    """Log in as the operator (the staff_user fixture) through the login page."""
    page = visit.page
    visit.go("/accounts/login/", "login")
    page.get_by_label("User name").fill("operator")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()


def test_staff_pages_run_their_scripts_under_the_csp(
    visit: Visit, customer_a: Tenant, staff_user: User
) -> None:
    CheckStatus.objects.create(
        service_check=customer_a.check,
        state="critical",
        hard_state="critical",
        summary="connection refused",
        last_change_at=datetime(2026, 11, 22, 3, tzinfo=UTC),
    )
    now = timezone.now()
    CheckResult.objects.bulk_create(
        CheckResult(
            service_check=customer_a.check,
            at=now - timedelta(minutes=minute),
            state="ok" if minute > 30 else "critical",
            latency_s=0.05 + minute / 1000,
        )
        for minute in range(1, 120, 5)
    )
    ticket = open_incident(customer_a)
    page = visit.page
    staff_log_in(visit)
    assert page.url.endswith("/staff/")
    visit.shot("dashboard")
    for path, name in [
        ("/staff/monitoring/", "monitoring-board"),
        (f"/staff/monitoring/checks/{customer_a.check.pk}/", "check"),
        (f"/staff/monitoring/assets/{customer_a.asset.pk}/", "asset"),
        ("/staff/tickets/", "queues"),
        (f"/staff/tickets/{ticket.number}/", "ticket"),
        ("/accounts/security/", "account"),
    ]:
        response = visit.go(path, name)
        page.wait_for_load_state("networkidle")
        assert response.status == 200, path
        if name == "check":
            # uPlot drew the latency chart into a canvas under the CSP.
            assert page.locator(".uplot canvas").count() >= 1
