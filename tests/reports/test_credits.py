"""Accepted claims become a credit on the next invoice run, exactly once
(reports/credits.py via billing.actions); rejected and late claims never do."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import Client
from tests.conftest import Tenant
from tests.reports.conftest import berlin

from leitstand.accounts.models import User
from leitstand.billing import actions as billing
from leitstand.billing.models import Invoice, InvoiceLine
from leitstand.helpdesk.models import Ticket
from leitstand.lib.money import round_cents
from leitstand.reports import actions
from leitstand.reports.models import Claim

D = Decimal


def credit_lines(customer: Tenant) -> list[InvoiceLine]:
    return list(
        InvoiceLine.objects.filter(invoice__customer=customer.customer, kind="credit").order_by(
            "invoice__period_start", "position"
        )
    )


def accepted_claim(tenant: Tenant, state: str = "accepted", amount: str | None = None) -> Claim:
    claim = actions.submit_claim(tenant.contract, 2026, 11, "Down.", user=tenant.user)
    staff = User.objects.get_or_create(username="decider", defaults={"is_staff": True})[0]
    reason = "" if state == "accepted" else "As measured."
    return actions.decide(
        claim, state, user=staff, reason=reason, amount=D(amount) if amount else None
    )


@pytest.mark.django_db
def test_from_the_portal_form_to_the_credit_on_the_next_invoice(
    client: Client,
    customer_a: Tenant,
    customer_b: Tenant,
    staff_user: User,
    november_outage: Ticket,
    at: Callable[[datetime], None],
) -> None:
    at(berlin(2026, 12, 3, 9, 0))
    client.force_login(customer_a.user)
    response = client.post(
        f"/portal/claims/reports/{customer_a.contract.pk}/claim/",
        {"month": "2026-11", "statement": "Shop down.", "tickets": [november_outage.pk]},
    )
    assert response.status_code == 302
    claim = Claim.objects.get()
    client.force_login(staff_user)
    assert client.post(f"/staff/claims/{claim.pk}/", {"state": "accepted"}).status_code == 302

    at(berlin(2027, 1, 2, 8, 0))
    assert billing.run_month(2026, 12) == 2
    invoice = Invoice.objects.get(customer=customer_a.customer, period_start=date(2026, 12, 1))
    [credit] = invoice.lines.filter(kind="credit")
    assert credit.net == D("-20.00")
    assert credit.vat == D("-3.80")  # 19 %, as on the package fee
    assert credit.vat_rate == D("19")
    assert "2026" in credit.description
    assert "alice-server" in credit.description
    assert invoice.net_total == D("180.00")
    assert invoice.vat_total == D("34.20")
    assert invoice.gross_total == D("214.20")
    claim.refresh_from_db()
    assert claim.credit_line == credit
    # customer B claimed nothing and gets no credit
    assert credit_lines(customer_b) == []
    # the portal names the invoice once it is final
    billing.finalise(invoice, date(2027, 1, 2))
    client.force_login(customer_a.user)
    page = client.get(f"/portal/claims/{claim.pk}/").content.decode()
    invoice.refresh_from_db()
    assert invoice.number
    assert invoice.number in page


@pytest.mark.django_db
def test_exactly_once_across_draft_reruns_finalising_and_later_months(
    customer_a: Tenant, november_outage: Ticket, at: Callable[[datetime], None]
) -> None:
    at(berlin(2026, 12, 3, 9, 0))
    claim = accepted_claim(customer_a)
    # November's own invoice does not credit November's claim: it is for a later run
    billing.run_month(2026, 11)
    assert credit_lines(customer_a) == []
    at(berlin(2027, 1, 2, 8, 0))
    billing.run_month(2026, 12)
    billing.run_month(2026, 12)  # the draft replaced: the credit moves with it, once
    [first] = credit_lines(customer_a)
    claim.refresh_from_db()
    assert claim.credit_line == first
    # January drafted while December is still a draft: December keeps the credit
    billing.run_month(2027, 1)
    assert len(credit_lines(customer_a)) == 1
    december = Invoice.objects.get(customer=customer_a.customer, period_start=date(2026, 12, 1))
    billing.finalise(december, date(2027, 1, 2))
    billing.run_month(2027, 1)
    billing.run_month(2027, 2)
    [only] = credit_lines(customer_a)
    assert only.invoice == december


@pytest.mark.django_db
def test_a_deleted_draft_frees_the_claim_for_the_next_run(
    customer_a: Tenant, november_outage: Ticket, at: Callable[[datetime], None]
) -> None:
    at(berlin(2026, 12, 3, 9, 0))
    claim = accepted_claim(customer_a)
    billing.run_month(2026, 12)
    Invoice.objects.filter(period_start=date(2026, 12, 1)).delete()
    claim.refresh_from_db()
    assert claim.credit_line is None
    billing.run_month(2027, 1)
    [credit] = credit_lines(customer_a)
    assert credit.invoice.period_start == date(2027, 1, 1)
    assert credit.net == D("-20.00")


@pytest.mark.django_db
def test_a_partial_acceptance_credits_the_granted_amount(
    customer_a: Tenant, november_outage: Ticket, at: Callable[[datetime], None]
) -> None:
    at(berlin(2026, 12, 3, 9, 0))
    accepted_claim(customer_a, "partly_accepted", "12.50")
    billing.run_month(2026, 12)
    [credit] = credit_lines(customer_a)
    assert credit.net == D("-12.50")
    # 19 % of 187.50 is 35.625 -> 35.63 for the rate; the credit takes the rest of 38.00
    assert credit.vat == D("-2.37")
    assert credit.invoice.vat_total == D("35.63")


@pytest.mark.django_db
def test_rejected_withdrawn_undecided_and_late_claims_are_never_credited(
    customer_a: Tenant,
    customer_b: Tenant,
    november_outage: Ticket,
    at: Callable[[datetime], None],
) -> None:
    from tests.reports.conftest import incident, outage

    at(berlin(2026, 12, 3, 9, 0))
    accepted_claim(customer_a, "rejected")
    withdrawn = actions.submit_claim(customer_a.contract, 2026, 11, "Again.", user=customer_a.user)
    actions.withdraw_claim(withdrawn)
    actions.submit_claim(customer_a.contract, 2026, 11, "Still open.", user=customer_a.user)
    # customer B had the same outage but claims on the 15th day: refused, nothing to credit
    outage(customer_b, berlin(2026, 11, 10, 10, 0), berlin(2026, 11, 10, 12, 0))
    incident(customer_b, berlin(2026, 11, 10, 10, 30))
    at(berlin(2026, 12, 15, 9, 0))
    with pytest.raises(actions.ClaimError, match="ended on"):
        actions.submit_claim(customer_b.contract, 2026, 11, "Late.", user=customer_b.user)
    billing.run_month(2026, 12)
    billing.run_month(2027, 1)
    assert credit_lines(customer_a) == []
    assert credit_lines(customer_b) == []


@pytest.mark.django_db
def test_reverse_charge_customers_get_the_credit_without_vat(
    customer_a: Tenant, november_outage: Ticket, at: Callable[[datetime], None]
) -> None:
    customer = customer_a.customer
    customer.country, customer.vat_id = "AT", "ATU12345678"
    customer.save()
    at(berlin(2026, 12, 3, 9, 0))
    accepted_claim(customer_a)
    billing.run_month(2026, 12)
    [credit] = credit_lines(customer_a)
    assert (credit.net, credit.vat, credit.vat_rate) == (D("-20.00"), D("0.00"), D("0"))


@pytest.mark.django_db
def test_the_invoice_still_adds_up_per_vat_rate(
    customer_a: Tenant, november_outage: Ticket, at: Callable[[datetime], None]
) -> None:
    """EN 16931 BR-CO-17: a rate's VAT is the rounded VAT of its net sum, also with
    amounts whose per-line rounding drifts (x.x5 cents)."""
    plan = customer_a.contract.plan
    plan.monthly_fee = D("100.05")  # 19 % of 100.05 = 19.0095
    plan.save()
    at(berlin(2026, 12, 3, 9, 0))
    accepted_claim(customer_a, "partly_accepted", "0.05")  # 19 % of 0.05 = 0.0095
    billing.run_month(2026, 12)
    invoice = Invoice.objects.get(customer=customer_a.customer, period_start=date(2026, 12, 1))
    lines = list(invoice.lines.all())
    net = sum((line.net for line in lines), D("0"))
    vat = sum((line.vat for line in lines), D("0"))
    assert net == D("100.00") == invoice.net_total
    assert vat == round_cents(net * D("19") / 100) == invoice.vat_total == D("19.00")
    assert invoice.gross_total == net + vat


@pytest.mark.django_db(transaction=True)
def test_a_run_waits_for_a_concurrent_run_and_does_not_credit_twice(
    customer_a: Tenant, november_outage: Ticket, at: Callable[[datetime], None]
) -> None:
    """December's run holds the claim; January's run, started meanwhile, waits for
    it and then no longer sees the claim."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers anyway; the race needs PostgreSQL")
    at(berlin(2026, 12, 3, 9, 0))
    claim = accepted_claim(customer_a)
    holding, release = threading.Event(), threading.Event()
    order: list[str] = []
    errors: list[BaseException] = []

    def december() -> None:
        try:
            with transaction.atomic():
                billing.draft_invoice(customer_a.customer, 2026, 12)
                holding.set()
                release.wait(30)
                order.append("december commits")
        except BaseException as exc:
            errors.append(exc)
            holding.set()
        finally:
            connection.close()

    def january() -> None:
        try:
            holding.wait(30)
            billing.run_month(2027, 1)
            order.append("january done")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=december)
    second = threading.Thread(target=january)
    first.start()
    second.start()
    second.join(1.5)
    assert second.is_alive(), "January's run must wait for the claim December holds"
    release.set()
    first.join(30)
    second.join(30)
    assert errors == []
    assert order == ["december commits", "january done"]
    [credit] = credit_lines(customer_a)
    assert credit.invoice.period_start == date(2026, 12, 1)
    claim.refresh_from_db()
    assert claim.credit_line_id == credit.pk
    january_invoice = Invoice.objects.get(
        customer=customer_a.customer, period_start=date(2027, 1, 1)
    )
    assert not january_invoice.lines.filter(kind="credit").exists()


@pytest.mark.django_db(transaction=True)
def test_many_simultaneous_runs_credit_once(
    customer_a: Tenant, november_outage: Ticket, at: Callable[[datetime], None]
) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers anyway; the race needs PostgreSQL")
    at(berlin(2026, 12, 3, 9, 0))
    accepted_claim(customer_a)
    months = [(2026, 12), (2027, 1), (2027, 2), (2027, 3)]
    start = threading.Barrier(len(months))
    errors: list[BaseException] = []

    def run(year: int, month: int) -> None:
        try:
            start.wait(30)
            billing.run_month(year, month)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=m) for m in months]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == []
    assert len(credit_lines(customer_a)) == 1
    assert Claim.objects.get().credit_line is not None


@pytest.mark.django_db
def test_the_credited_invoice_is_a_valid_e_invoice(
    customer_a: Tenant, november_outage: Ticket, at: Callable[[datetime], None]
) -> None:
    """EN 16931 BR-27: no negative item price; the e-invoice states the credit as a
    negative quantity, and the business rules and totals still hold."""
    from leitstand.billing import documents, einvoice

    customer = customer_a.customer
    customer.street, customer.postcode, customer.city = "Weg 2", "10115", "Berlin"
    customer.save()
    at(berlin(2026, 12, 3, 9, 0))
    accepted_claim(customer_a)
    billing.run_month(2026, 12)
    invoice = Invoice.objects.get(customer=customer, period_start=date(2026, 12, 1))
    invoice = billing.finalise(invoice, date(2027, 1, 2))
    stored = documents.stored(invoice, "facturx")
    assert stored is not None
    xml = bytes(stored.content)
    assert einvoice.business_rule_errors(xml) == []
    assert b"214.20" in xml  # the grand total with the credit
