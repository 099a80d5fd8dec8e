"""The invoice run on real data: contracts and recorded time in, lines and totals out,
every charge case of the shared scenarios through a real invoice; final invoices are
immutable and gaplessly numbered; corrections are credit notes."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import yaml
from django.db import connection
from tests.conftest import SHARED_SCENARIOS, Tenant

from leitstand.billing import actions
from leitstand.billing.models import FinalInvoiceError, Invoice, InvoiceSequence, RateCard
from leitstand.contracts.catalog import load_file
from leitstand.contracts.models import Plan
from leitstand.core.demo import CATALOG
from leitstand.helpdesk import actions as helpdesk
from leitstand.helpdesk.models import Ticket, TimeEntry
from leitstand.lib.durations import parse_timedelta

BERLIN = ZoneInfo("Europe/Berlin")


def charge_cases() -> list[tuple[str, dict[str, object]]]:
    cases = []
    for path in sorted(SHARED_SCENARIOS.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text())["cases"]:
            if case["kind"] == "charge":
                cases.append((f"{path.name}: {case['name']}", case))
    return cases


def ordered(entry: TimeEntry) -> TimeEntry:
    """The customer ordered the work: whether an order is needed and present is the
    helpdesk's rule (tests/helpdesk); here the time is billable by the contract."""
    TimeEntry.objects.filter(pk=entry.pk).update(billable=True)
    entry.refresh_from_db()
    return entry


@pytest.fixture
def catalog() -> None:
    load_file(CATALOG)


def set_plan(tenant: Tenant, plan: str, **kw: object) -> None:
    tenant.contract.plan = Plan.objects.get(name=plan)
    for key, value in kw.items():
        setattr(tenant.contract, key, value)
    tenant.contract.save()


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "case"), charge_cases(), ids=[n for n, _ in charge_cases()])
def test_every_charge_case_through_a_real_invoice(
    name: str, case: dict[str, object], customer_a: Tenant, catalog: None, staff_user: object
) -> None:
    card = RateCard.objects.get(name=str(case["rate_card"]))
    set_plan(customer_a, "webosa-managed", rate_card=card)
    ticket = helpdesk.open_ticket(
        customer_a.customer,
        "Special request",
        "please",
        channel=Ticket.Channel.PORTAL,
        asset=customer_a.asset,
        at=datetime(2026, 11, 10, 10, tzinfo=BERLIN),
    )
    ordered(
        helpdesk.log_time(
            ticket,
            staff_user,
            str(case["work_type"]),
            parse_timedelta(str(case["duration"])),
            started_at=datetime(2026, 11, 10, 11, tzinfo=BERLIN),
        )
    )
    invoice = actions.draft_invoice(customer_a.customer, 2026, 11)
    assert invoice is not None
    time_lines = [line for line in invoice.lines.all() if line.kind == "time"]
    assert len(time_lines) == 1
    assert time_lines[0].net == Decimal(str(case["expect"])), name
    fee = Plan.objects.get(name="webosa-managed").monthly_fee
    assert invoice.net_total == fee + Decimal(str(case["expect"]))
    assert invoice.vat_total == sum((line.vat for line in invoice.lines.all()), Decimal("0.00"))
    assert invoice.gross_total == invoice.net_total + invoice.vat_total
    assert list(time_lines[0].time_entries.all()) == list(ticket.time_entries.all())


@pytest.mark.django_db
def test_month_with_fees_add_ons_and_included_incident_work(
    customer_a: Tenant, catalog: None, staff_user: object
) -> None:
    set_plan(customer_a, "it-hafen-managed")
    customer_a.contract.addons.add(customer_a.contract.plan.addons.get(code="smartsupport"))
    incident = helpdesk.open_ticket(
        customer_a.customer,
        "Down",
        "!",
        channel="monitoring",
        kind="incident",
        asset=customer_a.asset,
        at=datetime(2026, 11, 3, 3, tzinfo=BERLIN),
    )
    helpdesk.log_time(
        incident,
        staff_user,
        "special_support",
        timedelta(minutes=45),
        started_at=datetime(2026, 11, 3, 4, tzinfo=BERLIN),
    )
    invoice = actions.draft_invoice(customer_a.customer, 2026, 11)
    assert invoice is not None
    rows = actions.lines_as_rows(invoice)
    assert [(r["description"], r["net"], r["included"]) for r in rows] == [
        ("IT-Hafen Managed Service (alice-server)", Decimal("89.00"), False),
        ("SmartSupport 24/7 (alice-server)", Decimal("49.00"), False),
        (f"{incident.number}: special_support (45 min)", Decimal("0.00"), True),
    ]
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (
        Decimal("138.00"),
        Decimal("26.22"),
        Decimal("164.22"),
    )


@pytest.mark.django_db
def test_reverse_charge_for_an_eu_business(customer_a: Tenant, catalog: None) -> None:
    customer_a.customer.country, customer_a.customer.vat_id = "NL", "NL123456789B01"
    customer_a.customer.save()
    set_plan(customer_a, "webosa-managed")
    invoice = actions.draft_invoice(customer_a.customer, 2026, 11)
    assert invoice is not None
    assert (invoice.vat_treatment, invoice.vat_total, invoice.gross_total) == (
        "reverse_charge",
        Decimal("0.00"),
        Decimal("99.00"),
    )


@pytest.mark.django_db
def test_drafts_are_replaced_and_nothing_is_billed_twice(
    customer_a: Tenant, catalog: None, staff_user: object
) -> None:
    set_plan(customer_a, "webosa-managed")
    ticket = helpdesk.open_ticket(
        customer_a.customer,
        "x",
        "y",
        channel="portal",
        asset=customer_a.asset,
        at=datetime(2026, 11, 5, 9, tzinfo=BERLIN),
    )
    ordered(
        helpdesk.log_time(
            ticket,
            staff_user,
            "it_support",
            timedelta(minutes=40),
            started_at=datetime(2026, 11, 5, 10, tzinfo=BERLIN),
        )
    )
    first = actions.draft_invoice(customer_a.customer, 2026, 11)
    second = actions.draft_invoice(customer_a.customer, 2026, 11)
    assert first is not None
    assert second is not None
    assert Invoice.objects.filter(status="draft").count() == 1
    final = actions.finalise(second, date(2026, 12, 1))
    assert final.number == "RE-2026-00001"
    again = actions.draft_invoice(customer_a.customer, 2026, 11)
    assert again is not None
    assert [line.kind for line in again.lines.all()] == ["fee"]  # the time is already billed


@pytest.mark.django_db
def test_final_invoices_are_immutable_and_corrected_by_credit_notes(
    customer_a: Tenant, catalog: None
) -> None:
    set_plan(customer_a, "webosa-managed")
    invoice = actions.finalise(
        actions.draft_invoice(customer_a.customer, 2026, 11), date(2026, 12, 1)
    )  # type: ignore[arg-type]
    invoice.net_total = Decimal("1.00")
    with pytest.raises(FinalInvoiceError):
        invoice.save()
    line = invoice.lines.first()
    assert line is not None
    line.net = Decimal("0.01")
    with pytest.raises(FinalInvoiceError):
        line.save()
    with pytest.raises(FinalInvoiceError):
        invoice.delete()
    note = actions.credit_note(
        invoice, [("SLA compensation November", Decimal("20.00"))], date(2026, 12, 5)
    )
    assert (note.kind, note.number, note.corrects) == ("credit_note", "RE-2026-00002", invoice)
    assert (note.net_total, note.vat_total, note.gross_total) == (
        Decimal("-20.00"),
        Decimal("-3.80"),
        Decimal("-23.80"),
    )
    with pytest.raises(ValueError, match="only a final invoice"):
        actions.credit_note(
            actions.draft_invoice(customer_a.customer, 2026, 10) or invoice.__class__(), []
        )


@pytest.mark.django_db
def test_run_month_drafts_every_customer_with_something_to_bill(
    customer_a: Tenant, customer_b: Tenant, catalog: None
) -> None:
    set_plan(customer_a, "webosa-managed")
    customer_b.contract.starts_on = date(2027, 1, 1)  # not yet running in November
    customer_b.contract.save()
    assert actions.run_month(2026, 11) == 1
    assert Invoice.objects.get().customer == customer_a.customer


@pytest.mark.django_db(transaction=True)
def test_concurrent_finalisation_numbers_without_gaps(customer_a: Tenant) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers anyway; the race needs PostgreSQL")
    load_file(CATALOG)
    drafts = []
    for month in range(1, 11):
        invoice = Invoice.objects.create(
            customer=customer_a.customer,
            period_start=date(2026, month, 1),
            period_end=date(2026, month, 28),
            vat_treatment="standard",
        )
        drafts.append(invoice)
    errors: list[BaseException] = []

    def worker(items: list[Invoice]) -> None:
        try:
            for item in items:
                actions.finalise(item, date(2026, 12, 1))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(drafts[i::3],)) for i in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"RE-2026-{n:05d}" for n in range(1, 11)]
    assert InvoiceSequence.objects.get(year=2026).last == 10
