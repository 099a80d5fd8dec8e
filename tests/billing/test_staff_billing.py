"""The billing back office: run the month, review drafts with warnings and the time
behind them, correct lines with a reason, finalise one or all, credit notes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from tests.billing.conftest import MakeDraft
from tests.conftest import Tenant

from leitstand.billing import review
from leitstand.billing.invoicing import Line
from leitstand.billing.models import Invoice, InvoiceLine, LineChange
from leitstand.contracts.models import Plan
from leitstand.helpdesk.models import Ticket, TimeEntry

pytestmark = pytest.mark.django_db
D = Decimal
BERLIN = ZoneInfo("Europe/Berlin")
SERVER = Line("Managed Server", D(1), "month", D("99.00"), D(19), "fee")
SUPPORT = Line("T-1: it_support (31 min)", D(3), "15 min", D("35.00"), D(19), "time")


@pytest.fixture
def staff(client: Client, staff_user: object) -> Client:
    client.force_login(staff_user)  # type: ignore[arg-type]
    return client


def with_address(tenant: Tenant) -> Tenant:
    customer = tenant.customer
    customer.street, customer.postcode, customer.city = "Weg 2", "10115", "Berlin"
    customer.save()
    return tenant


def test_customers_and_anonymous_users_do_not_get_in(
    client: Client, customer_a: Tenant, draft: MakeDraft
) -> None:
    invoice = draft(customer_a.customer, [SERVER])
    assert client.get("/staff/billing/").status_code == 302
    client.force_login(customer_a.user)
    for url in [
        "/staff/billing/",
        f"/staff/billing/invoices/{invoice.pk}/",
        f"/staff/billing/invoices/{invoice.pk}/documents/pdf",
        "/staff/billing/export.csv?start=2026-11&end=2026-11&status=all&dialect=standard",
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(f"/staff/billing/invoices/{invoice.pk}/finalise").status_code == 404
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.DRAFT


def test_the_run_drafts_the_month_and_the_list_shows_totals(
    staff: Client, customer_a: Tenant, customer_b: Tenant
) -> None:
    Plan.objects.filter(name="test-plan").update(monthly_fee=D("49.00"))
    response = staff.post("/staff/billing/run", {"month": "2026-11"})
    assert response.status_code == 302
    assert response.url == "/staff/billing/?month=2026-11"
    assert Invoice.objects.filter(status="draft", period_start="2026-11-01").count() == 2
    page = staff.get("/staff/billing/?month=2026-11").content.decode()
    assert "C90001" in page
    assert "C90002" in page
    assert "net 98.00, VAT 18.62, gross 116.62" in page


def test_bad_months_get_a_message_not_a_traceback(staff: Client) -> None:
    for month in ["2026-13", "november", "", "2026-11-01"]:
        response = staff.post("/staff/billing/run", {"month": month}, follow=True)
        assert response.status_code == 200
        assert "YYYY-MM" in response.content.decode()
    assert staff.get("/staff/billing/?month=garbage").status_code == 200


def test_review_shows_the_time_entries_behind_a_line_and_warnings(
    staff: Client, customer_a: Tenant, staff_user: object, draft: MakeDraft
) -> None:
    invoice = draft(customer_a.customer, [SERVER, SUPPORT])
    ticket = Ticket.objects.create(
        number="T-1",
        customer=customer_a.customer,
        asset=customer_a.asset,
        kind="request",
        channel="portal",
        subject="Help",
        created_at=datetime(2026, 11, 3, 9, tzinfo=BERLIN),
    )
    entry = TimeEntry.objects.create(
        ticket=ticket,
        user=staff_user,
        work_type="it_support",
        started_at=datetime(2026, 11, 3, 10, tzinfo=BERLIN),
        seconds=31 * 60,
        billable=True,
    )
    invoice.lines.get(position=2).time_entries.add(entry)
    page = staff.get(f"/staff/billing/invoices/{invoice.pk}/").content.decode()
    assert "T-1 · " in page
    assert "it_support · 31 min" in page
    # The fixture customer has no address: § 14 UStG needs one.
    assert "address is incomplete" in page


def test_warnings_name_unpriced_time_and_eu_business_without_vat_id(
    customer_a: Tenant, staff_user: object, draft: MakeDraft
) -> None:
    with_address(customer_a)
    customer_a.customer.country = "AT"
    customer_a.customer.save()
    unpriced = Line("T-9: design (60 min)", D(1), "task", D(0), D(19), "time", True)
    invoice = draft(customer_a.customer, [SERVER, unpriced])
    ticket = Ticket.objects.create(
        number="T-9",
        customer=customer_a.customer,
        kind="request",
        channel="portal",
        subject="Design",
        created_at=datetime(2026, 11, 3, 9, tzinfo=BERLIN),
    )
    entry = TimeEntry.objects.create(
        ticket=ticket,
        user=staff_user,
        work_type="design",
        started_at=datetime(2026, 11, 3, 10, tzinfo=BERLIN),
        seconds=3600,
        billable=True,
    )
    invoice.lines.get(position=2).time_entries.add(entry)
    found = " ".join(review.warnings(invoice))
    assert "rate card does not price" in found
    assert "EU business customer without VAT ID" in found
    assert "not charged (no order or approval)" not in found
    # Out-of-scope work recorded as not billable: nobody ordered it.
    Ticket.objects.filter(pk=ticket.pk).update(out_of_scope=True)
    TimeEntry.objects.filter(pk=entry.pk).update(billable=False)
    found = " ".join(review.warnings(invoice))
    assert "not charged (no order or approval)" in found
    assert "rate card does not price" not in found
    with_address(customer_a)


def test_a_line_is_corrected_with_a_reason_and_the_totals_follow(
    staff: Client, customer_a: Tenant, staff_user: object, draft: MakeDraft
) -> None:
    invoice = draft(customer_a.customer, [SERVER, SUPPORT])
    url = f"/staff/billing/invoices/{invoice.pk}/lines/2/edit"
    data = {"description": "T-1: it_support (goodwill)", "quantity": "2", "unit_price": "35"}
    refused = staff.post(url, {**data, "reason": ""}, follow=True)
    assert refused.status_code == 200
    assert invoice.lines.get(position=2).quantity == 3
    staff.post(url, {**data, "reason": "one quarter hour goodwill"})
    invoice.refresh_from_db()
    line = invoice.lines.get(position=2)
    assert (line.quantity, line.net, line.vat) == (D(2), D("70.00"), D("13.30"))
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (
        D("169.00"),
        D("32.11"),
        D("201.11"),
    )
    change = LineChange.objects.get()
    assert (change.action, change.reason, change.changed_by) == (
        "edit",
        "one quarter hour goodwill",
        staff_user,
    )
    assert (change.before["net"], change.after["net"]) == ("105.00", "70.00")


def test_bad_numbers_in_a_correction_are_refused_with_a_message(
    staff: Client, customer_a: Tenant, draft: MakeDraft
) -> None:
    invoice = draft(customer_a.customer, [SERVER])
    url = f"/staff/billing/invoices/{invoice.pk}/lines/1/edit"
    response = staff.post(
        url,
        {"description": "x", "quantity": "1e999", "unit_price": "abc", "reason": "r"},
        follow=True,
    )
    assert response.status_code == 200
    assert invoice.lines.get().unit_price == D("99.00")
    assert not LineChange.objects.exists()
    missing = staff.post(f"/staff/billing/invoices/{invoice.pk}/lines/7/remove", {"reason": "r"})
    assert missing.status_code == 302
    assert (
        staff.post("/staff/billing/invoices/999999/lines/1/remove", {"reason": "r"}).status_code
        == 404
    )


def test_a_line_is_removed_with_a_reason_and_the_rest_renumbered(
    staff: Client, customer_a: Tenant, draft: MakeDraft
) -> None:
    invoice = draft(customer_a.customer, [SUPPORT, SERVER])
    staff.post(f"/staff/billing/invoices/{invoice.pk}/lines/1/remove", {"reason": "billed twice"})
    invoice.refresh_from_db()
    assert list(invoice.lines.values_list("position", "description")) == [(1, "Managed Server")]
    assert (invoice.net_total, invoice.gross_total) == (D("99.00"), D("117.81"))
    assert LineChange.objects.get().action == "remove"


def test_final_invoices_cannot_be_corrected_in_place(
    staff: Client, customer_a: Tenant, draft: MakeDraft
) -> None:
    with_address(customer_a)
    invoice = draft(customer_a.customer, [SERVER])
    staff.post(f"/staff/billing/invoices/{invoice.pk}/finalise")
    invoice.refresh_from_db()
    assert invoice.status == "final"
    response = staff.post(
        f"/staff/billing/invoices/{invoice.pk}/lines/1/remove", {"reason": "x"}, follow=True
    )
    assert "credit note" in response.content.decode()
    assert invoice.lines.count() == 1


def test_finalise_all_numbers_every_draft_of_the_month(
    staff: Client, customer_a: Tenant, customer_b: Tenant, draft: MakeDraft
) -> None:
    with_address(customer_a)
    with_address(customer_b)
    first = draft(customer_a.customer, [SERVER])
    second = draft(customer_b.customer, [SERVER, SUPPORT])
    other_month = draft(customer_a.customer, [SERVER], month=10)
    staff.post("/staff/billing/finalise-all", {"month": "2026-11"})
    first.refresh_from_db()
    second.refresh_from_db()
    other_month.refresh_from_db()
    assert first.status == second.status == "final"
    assert sorted([first.number, second.number]) == [  # type: ignore[type-var]
        f"RE-{first.issued_on:%Y}-00001",
        f"RE-{first.issued_on:%Y}-00002",
    ]
    assert other_month.status == "draft"
    assert first.documents.count() == 3


def test_a_failing_draft_does_not_stop_the_others(
    customer_a: Tenant, customer_b: Tenant, draft: MakeDraft, settings: object
) -> None:
    with_address(customer_a)
    with_address(customer_b)
    customer_b.customer.country, customer_b.customer.vat_id = "NL", ""
    customer_b.customer.save()
    good = draft(customer_a.customer, [SERVER])
    # Reverse charge without the buyer's VAT ID breaks BR-AE-02.
    bad = draft(
        customer_b.customer,
        [Line("Server", D(1), "month", D("99.00"), D(0), "fee")],
        treatment="reverse_charge",
    )
    outcome = review.finalise_all([bad, good])
    assert [i.pk for i in outcome.finalised] == [good.pk]
    assert [(i.pk, "BR-AE-02" in why) for i, why in outcome.failed] == [(bad.pk, True)]
    bad.refresh_from_db()
    assert bad.status == "draft"


def test_a_credit_note_from_the_back_office_is_limited_to_the_invoice(
    staff: Client, customer_a: Tenant, draft: MakeDraft
) -> None:
    with_address(customer_a)
    invoice = draft(customer_a.customer, [SERVER])
    staff.post(f"/staff/billing/invoices/{invoice.pk}/finalise")
    url = f"/staff/billing/invoices/{invoice.pk}/credit-note"
    too_much = staff.post(url, {"description": "goodwill", "amount": "99.01"}, follow=True)
    assert "99.00" in too_much.content.decode()
    assert not Invoice.objects.filter(kind="credit_note").exists()
    assert staff.post(url, {"description": "goodwill", "amount": "-5"}).status_code == 302
    assert not Invoice.objects.filter(kind="credit_note").exists()
    response = staff.post(url, {"description": "outage 3 Nov", "amount": "60.00"})
    note = Invoice.objects.get(kind="credit_note")
    assert response.url == f"/staff/billing/invoices/{note.pk}/"
    assert (note.corrects, note.net_total, note.gross_total) == (
        invoice,
        D("-60.00"),
        D("-71.40"),
    )
    assert note.documents.count() == 3
    staff.post(url, {"description": "rest", "amount": "39.01"})
    assert Invoice.objects.filter(kind="credit_note").count() == 1


def test_staff_download_stored_documents_and_preview_drafts(
    staff: Client, customer_a: Tenant, draft: MakeDraft
) -> None:
    with_address(customer_a)
    invoice = draft(customer_a.customer, [SERVER])
    preview = staff.get(f"/staff/billing/invoices/{invoice.pk}/documents/pdf")
    assert preview.status_code == 200
    assert preview.content.startswith(b"%PDF-")
    assert staff.get(f"/staff/billing/invoices/{invoice.pk}/documents/xrechnung").status_code == 404
    assert staff.get(f"/staff/billing/invoices/{invoice.pk}/documents/nonsense").status_code == 404
    staff.post(f"/staff/billing/invoices/{invoice.pk}/finalise")
    for kind in ("pdf", "facturx", "xrechnung"):
        response = staff.get(f"/staff/billing/invoices/{invoice.pk}/documents/{kind}")
        assert response.status_code == 200
        assert response.content == bytes(invoice.documents.get(kind=kind).content)


def test_the_nav_links_the_back_office(staff: Client) -> None:
    assert 'href="/staff/billing/"' in staff.get("/staff/").content.decode()


def test_rerunning_the_month_keeps_final_invoices(
    staff: Client, customer_a: Tenant, draft: MakeDraft
) -> None:
    with_address(customer_a)
    invoice = draft(customer_a.customer, [SERVER])
    staff.post(f"/staff/billing/invoices/{invoice.pk}/finalise")
    staff.post("/staff/billing/run", {"month": "2026-11"})
    invoice.refresh_from_db()
    assert invoice.status == "final"
    assert InvoiceLine.objects.filter(invoice=invoice).count() == 1


def test_a_big_month_is_finalised_by_the_worker(
    staff: Client,
    customer_a: Tenant,
    customer_b: Tenant,
    draft: MakeDraft,
    settings: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from leitstand.billing import tasks

    settings.TASKS = {  # type: ignore[attr-defined]
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
    }
    monkeypatch.setattr(tasks, "IN_REQUEST", 1)
    with_address(customer_a)
    with_address(customer_b)
    drafts = [draft(t.customer, [SERVER]) for t in (customer_a, customer_b)]
    response = staff.post("/staff/billing/finalise-all", {"month": "2026-11"}, follow=True)
    assert "in the background" in response.content.decode()
    assert set(Invoice.objects.values_list("status", flat=True)) == {"final"}
    # Running the job again changes nothing: only drafts are finalised.
    result = tasks.finalise_drafts.enqueue([d.pk for d in drafts])
    assert result.return_value == {"finalised": 0, "failed": 0}


def test_the_month_lists_drafts_finals_and_credit_notes_with_pages(
    staff: Client,
    customer_a: Tenant,
    customer_b: Tenant,
    draft: MakeDraft,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from leitstand.billing import actions, staff_views

    with_address(customer_a)
    invoice = draft(customer_a.customer, [SERVER])
    final = actions.finalise(invoice)
    actions.credit_note(final, [("goodwill", D("10.00"))])
    draft(customer_b.customer, [SERVER, SUPPORT])
    page = staff.get("/staff/billing/?month=2026-11").content.decode()
    assert final.number in page  # type: ignore[operator]
    assert "Credit note" in page
    assert "1 draft" in page
    assert "net 204.00, VAT 38.76, gross 242.76" in page  # drafts only
    assert 'action="/staff/billing/export.csv"' in page
    monkeypatch.setattr(staff_views, "PAGE", 2)
    first = staff.get("/staff/billing/?month=2026-11").content.decode()
    assert "1 / 2" in first
    assert "page=2" in first
    second = staff.get("/staff/billing/?month=2026-11&page=2").content.decode()
    assert "2 / 2" in second
    assert staff.get("/staff/billing/?month=2026-11&page=x").status_code == 200


def test_a_credit_note_page_has_no_credit_note_form_and_links_its_invoice(
    staff: Client, customer_a: Tenant, draft: MakeDraft
) -> None:
    from leitstand.billing import actions

    with_address(customer_a)
    final = actions.finalise(draft(customer_a.customer, [SERVER]))
    note = actions.credit_note(final, [("goodwill", D("10.00"))])
    page = staff.get(f"/staff/billing/invoices/{note.pk}/").content.decode()
    assert f'href="/staff/billing/invoices/{final.pk}/"' in page
    assert "/credit-note" not in page
    refused = staff.post(
        f"/staff/billing/invoices/{note.pk}/credit-note",
        {"description": "x", "amount": "1.00"},
        follow=True,
    )
    assert "Only a final invoice" in refused.content.decode()
    assert Invoice.objects.filter(kind="credit_note").count() == 1


def test_finalising_twice_is_harmless(staff: Client, customer_a: Tenant, draft: MakeDraft) -> None:
    with_address(customer_a)
    invoice = draft(customer_a.customer, [SERVER])
    staff.post(f"/staff/billing/invoices/{invoice.pk}/finalise")
    again = staff.post(f"/staff/billing/invoices/{invoice.pk}/finalise", follow=True)
    assert "already final" in again.content.decode()
    invoice.refresh_from_db()
    assert invoice.number == f"RE-{invoice.issued_on:%Y}-00001"
    assert invoice.documents.count() == 3


def test_a_draft_that_cannot_be_an_e_invoice_is_not_finalised_and_says_why(
    staff: Client, customer_a: Tenant, draft: MakeDraft
) -> None:
    with_address(
        customer_a,
    )
    customer_a.customer.country = "NL"
    customer_a.customer.save()
    items = [Line("Server", D(1), "month", D("99.00"), D(0), "fee")]
    invoice = draft(customer_a.customer, items, treatment="reverse_charge")
    page = staff.get(f"/staff/billing/invoices/{invoice.pk}/").content.decode()
    assert "BR-AE-02" in page  # the review warns before anyone presses the button
    response = staff.post(f"/staff/billing/invoices/{invoice.pk}/finalise", follow=True)
    assert "Not finalised" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == "draft"


def test_get_on_actions_is_refused(staff: Client, customer_a: Tenant, draft: MakeDraft) -> None:
    invoice = draft(customer_a.customer, [SERVER])
    for url in [
        "/staff/billing/run",
        "/staff/billing/finalise-all",
        f"/staff/billing/invoices/{invoice.pk}/finalise",
        f"/staff/billing/invoices/{invoice.pk}/credit-note",
        f"/staff/billing/invoices/{invoice.pk}/lines/1/edit",
        f"/staff/billing/invoices/{invoice.pk}/lines/1/remove",
    ]:
        assert staff.get(url).status_code == 405, url
    invoice.refresh_from_db()
    assert invoice.status == "draft"
