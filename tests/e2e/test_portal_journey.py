"""A customer's day in the portal, in a real browser.

Issue 8: "log in, see a failing service, open a ticket, receive the staff
reply, download an invoice, switch language". Every page visited is kept as a
screenshot under test-artifacts/e2e/.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from tests.accounts.conftest import enrol, totp
from tests.conftest import PASSWORD, Tenant
from tests.e2e.conftest import Visit

from leitstand.accounts.models import User
from leitstand.billing.actions import finalise
from leitstand.billing.models import Invoice, InvoiceLine
from leitstand.helpdesk import actions as helpdesk
from leitstand.helpdesk.models import Ticket
from leitstand.monitoring.models import CheckStatus

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(visit: Visit, number: str, login: str, password: str = PASSWORD) -> None:
    page = visit.page
    visit.go("/accounts/login/", "login")
    page.get_by_label("Customer number").fill(number)
    page.get_by_label("User name").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")


def failing_service(tenant: Tenant) -> None:
    CheckStatus.objects.create(
        service_check=tenant.check,
        state="critical",
        hard_state="critical",
        summary="connection refused",
        last_change_at=datetime(2026, 11, 22, 3, tzinfo=UTC),
    )


def final_invoice(tenant: Tenant) -> Invoice:
    invoice = Invoice.objects.create(
        customer=tenant.customer,
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        vat_treatment="standard",
        net_total=Decimal("1234.50"),
        vat_total=Decimal("234.56"),
        gross_total=Decimal("1469.06"),
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        position=1,
        kind="time",
        description="Mailbox for the intern",
        quantity=Decimal("0.5"),
        unit="h",
        unit_price=Decimal("2469.00"),
        vat_rate=Decimal("19"),
        net=Decimal("1234.50"),
        vat=Decimal("234.56"),
    )
    return finalise(invoice, date(2026, 11, 1))


def test_customer_sees_failure_opens_ticket_gets_reply_downloads_invoice_switches_language(
    visit: Visit, customer_a: Tenant, customer_b: Tenant, staff_user: User
) -> None:
    page = visit.page
    failing_service(customer_a)
    failing_service(customer_b)
    invoice = final_invoice(customer_a)

    log_in(visit, "C90001", "alice")
    assert page.url.endswith("/portal/")
    visit.shot("dashboard")
    assert page.get_by_text("HTTP: critical").first.is_visible()
    assert "connection refused" in page.content()
    assert "bob-server" not in page.content()  # the other customer stays invisible

    page.get_by_role("link", name="Open a ticket").first.click()
    page.wait_for_load_state("load")
    visit.shot("ticket-new")
    page.get_by_label("Kind").select_option("incident")
    page.get_by_label("Server or service").select_option(str(customer_a.asset.pk))
    page.get_by_label("Subject").fill("Website down")
    page.get_by_label("Description").fill("Since 4 am our shop answers nothing.")
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state("load")
    ticket = Ticket.objects.get(customer=customer_a.customer)
    assert page.url.endswith(f"/portal/tickets/{ticket.number}/")
    visit.shot("ticket")
    assert "Since 4 am our shop answers nothing." in page.content()

    helpdesk.reply(ticket, staff_user, "We restarted nginx; the shop answers again.")
    page.reload()
    page.wait_for_load_state("load")
    visit.shot("ticket-with-reply")
    assert page.get_by_text("We restarted nginx; the shop answers again.").is_visible()

    visit.go("/portal/invoices/", "invoices")
    page.get_by_role("link", name=invoice.number).click()
    page.wait_for_load_state("load")
    visit.shot("invoice")
    assert "1,469.06" in page.content()  # grouped, in English
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as PDF").click()
    download = download_info.value
    pdf = download.path().read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert b"%%EOF" in pdf[-1024:]
    assert download.suggested_filename.endswith(".pdf")
    with page.expect_download() as csv_info:
        page.get_by_role("link", name="Download as CSV").click()
    csv = csv_info.value.path().read_text(encoding="utf-8")
    assert "Mailbox for the intern" in csv

    # German, stored on the user: money and dates follow the language.
    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Switch").click()
    page.wait_for_load_state("load")
    visit.shot("invoice-de")
    assert page.locator("html").get_attribute("lang") == "de"
    assert "1.469,06" in page.content()  # German grouping and decimal comma
    assert User.objects.get(pk=customer_a.user.pk).language == "de"
    visit.go("/portal/", "dashboard-de")
    assert "Ihre Server und Dienste" in page.content()

    page.get_by_label("Sprache").select_option("en")
    page.locator("form.lang button").click()
    page.wait_for_load_state("load")
    visit.shot("dashboard-en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Your servers and services" in page.content()


def test_login_with_a_second_factor(visit: Visit, customer_a: Tenant) -> None:
    page = visit.page
    device, _ = enrol(customer_a.user, time.time() - 60)
    log_in(visit, "C90001", "alice")
    assert page.url.endswith("/accounts/login/code/")
    visit.shot("code")
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state("load")
    visit.shot("code-wrong")
    assert page.get_by_text("This code is wrong or was already used.").is_visible()
    page.get_by_label("Code").fill(totp(device.key, time.time()))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/portal/")
    visit.shot("dashboard")


def test_enforced_second_factor_is_set_up_in_the_browser(visit: Visit, customer_a: Tenant) -> None:
    page = visit.page
    customer_a.customer.enforce_totp = True
    customer_a.customer.save()
    log_in(visit, "C90001", "alice")
    assert page.url.endswith("/accounts/security/totp/")
    visit.shot("enrol")
    assert page.locator("figure.qr svg").is_visible()
    device: Any = customer_a.user.totpdevice_set.get()
    page.get_by_label("Code from the app").fill(totp(device.key, time.time()))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_load_state("load")
    visit.shot("recovery-codes")
    assert page.locator("ul.recovery-codes li").count() == 10
    page.get_by_role("link", name="Done").click()
    page.wait_for_load_state("load")
    visit.shot("security")
    visit.go("/portal/", "dashboard")
    assert page.url.endswith("/portal/")
