"""What a customer asks for in the portal, in a real browser: approve an estimate,
request a restore, submit a claim (issue 8's browser tests)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from tests.conftest import Tenant
from tests.e2e.conftest import Visit
from tests.e2e.test_portal_journey import log_in
from tests.reports import conftest as reports

from leitstand.accounts.models import User
from leitstand.backups.models import RestoreRequest
from leitstand.billing.models import RateCard
from leitstand.contracts.catalog import load_file
from leitstand.contracts.models import Plan, VerifiedEmail
from leitstand.core.demo import CATALOG
from leitstand.helpdesk import actions, estimates
from leitstand.helpdesk.models import Estimate, Ticket
from leitstand.reports.models import Claim

pytestmark = pytest.mark.django_db(transaction=True)

# The claims tests' own fixtures: a priced claim rule and a November outage
# the customer reported in the portal.
claim_rule = reports.claim_rule
priced = reports.priced
november_outage = reports.november_outage


def test_an_authorised_contact_approves_an_estimate(
    visit: Visit, customer_a: Tenant, staff_user: User, settings: object
) -> None:
    settings.HELPDESK_EMAIL = "support@provider.example"  # type: ignore[attr-defined]
    load_file(CATALOG)
    customer_a.contract.plan = Plan.objects.get(name="cloudflux-managed-server")
    customer_a.contract.save()
    customer_a.contact.may_order_paid_work = True
    customer_a.contact.save()
    VerifiedEmail.objects.filter(contact=customer_a.contact).update(verified_at=timezone.now())
    ticket = actions.open_ticket(
        customer_a.customer,
        "Install a PHP extension",
        "Please install php-imagick.",
        channel=Ticket.Channel.PORTAL,
        requester=customer_a.contact,
        requester_email="alice@c90001.example",
        verified=True,
        asset=customer_a.asset,
    )
    estimate = estimates.send(
        estimates.create(
            ticket,
            staff_user,
            description="Install php-imagick and restart PHP-FPM.",
            work_type="special_support",
            effort=timedelta(hours=2),
            amount=Decimal("280.00"),
            valid_until=timezone.now() + timedelta(days=14),
        ),
        staff_user,
    )
    page = visit.page
    log_in(visit, "C90001", "alice")
    visit.go("/portal/helpdesk/estimates/", "estimates")
    page.get_by_role("link", name=estimate.reference).first.click()
    page.wait_for_load_state("load")
    visit.shot("estimate")
    # The estimate's text is frozen in the customer's language (German by default).
    assert "280,00 EUR" in page.content()
    assert "Install php-imagick and restart PHP-FPM." in page.content()
    page.get_by_label("Comment (optional)").fill("Go ahead")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_load_state("load")
    visit.shot("estimate-approved")
    assert page.get_by_text("Thank you: the estimate is approved.").is_visible()
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.APPROVED
    assert estimate.decided_by_user == customer_a.user


def test_a_customer_requests_a_restore(visit: Visit, customer_a: Tenant) -> None:
    load_file(CATALOG)
    customer_a.contract.plan = Plan.objects.get(name="it-hafen-managed")
    customer_a.contract.rate_card = RateCard.objects.get(name="critical-incident")
    customer_a.contract.save()
    page = visit.page
    log_in(visit, "C90001", "alice")
    visit.go("/portal/backups/", "backups")
    page.locator(f'a[href="/portal/backups/restore/?asset={customer_a.asset.pk}"]').first.click()
    page.wait_for_load_state("load")
    visit.shot("restore-form")
    assert "10.00 EUR per commenced 6 minutes" in page.content()
    wall_clock = (timezone.now() - timedelta(hours=3)).astimezone(ZoneInfo("Europe/Berlin"))
    page.locator('input[name="what"][value="database"]').check()
    page.locator('input[name="target"]').fill("shop")
    page.locator('input[name="point_in_time"]').fill(wall_clock.strftime("%Y-%m-%dT%H:%M"))
    page.locator('input[name="destination"][value="alongside"]').check()
    page.locator('input[name="cause"][value="customer"]').check()
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state("load")
    visit.shot("restore-ticket")
    request = RestoreRequest.objects.get()
    assert page.url.endswith(f"/portal/tickets/{request.ticket.number}/")
    assert request.asset == customer_a.asset
    assert request.point_in_time == wall_clock.replace(second=0, microsecond=0)


def test_a_customer_submits_a_claim_within_the_window(
    visit: Visit, customer_a: Tenant, november_outage: Ticket
) -> None:
    # 3 December: the claim window for November (the first 14 days) is open.
    # time-machine moves the server's clock; the browser and Playwright's own
    # timeouts use the monotonic clock, which it leaves alone.
    with time_machine.travel(reports.berlin(2026, 12, 3, 9, 0), tick=True):
        page = visit.page
        log_in(visit, "C90001", "alice")
        visit.go(f"/portal/claims/reports/{customer_a.contract.pk}/claim/?month=2026-11", "claim")
        assert "within 14 calendar days after the end of the month" in page.content()
        page.locator('textarea[name="statement"]').fill("The shop was down for two hours.")
        page.locator(f'input[name="tickets"][value="{november_outage.pk}"]').check()
        page.locator("form button[type=submit]").last.click()
        page.wait_for_load_state("load")
        visit.shot("claim-submitted")
        claim = Claim.objects.get()
        assert page.url.endswith(f"/portal/claims/{claim.pk}/")
        assert claim.customer == customer_a.customer
        assert list(claim.tickets.all()) == [november_outage]
        visit.go("/portal/claims/", "claims")
        assert f'href="/portal/claims/{claim.pk}/"' in page.content()
