"""The back office's ticket page and quick actions, through the real views.

Replies go out through Django's real SMTP backend to aiosmtpd on loopback; the
customer's answer to such a reply comes back in through the real inbound path
and threads onto the ticket.
"""

from __future__ import annotations

import email.policy
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.test import Client
from tests.conftest import Tenant

from leitstand.accounts.models import User
from leitstand.contracts.catalog import load_file
from leitstand.contracts.models import Plan
from leitstand.core.demo import CATALOG
from leitstand.helpdesk import actions, inbound
from leitstand.helpdesk.models import Message, RunningTimer, Ticket, TicketEvent, TimeEntry

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=AMS)


class SmtpSink:
    """aiosmtpd on 127.0.0.1 keeping what it receives; ``refuse`` answers 554."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.received: list[EmailMessage] = []
        self.refuse = False
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            return "554 no thanks"
        raw = bytes(envelope.original_content or b"")
        self.received.append(message_from_bytes(raw, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    settings.HELPDESK_EMAIL = "support@provider.example"
    try:
        yield sink
    finally:
        sink.controller.stop()


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STAFF_REQUIRE_TOTP = False
    # The tests travel in time; the session timeouts are tested elsewhere.
    settings.SESSION_IDLE_TIMEOUT = settings.SESSION_ABSOLUTE_TIMEOUT = 10 * 365 * 86400
    settings.SESSION_COOKIE_AGE = 10 * 365 * 86400


@pytest.fixture
def webosa(customer_a: Tenant) -> Tenant:
    """Customer A on the Webosa SLA: P1 clock hours, P2 business hours, IT support
    priced; Alice may order paid work (so her verified requests are orders)."""
    load_file(CATALOG)
    plan = Plan.objects.get(name="webosa-managed")
    # Prior agreement for paid work is the estimates' subject (test_estimates.py).
    Plan.objects.filter(pk=plan.pk).update(paid_work_requires_approval=False)
    customer_a.contract.plan = plan
    customer_a.contract.save()
    customer_a.contact.may_order_paid_work = True
    customer_a.contact.save()
    return customer_a


@pytest.fixture
def staff(client: Client, staff_user: User) -> Client:
    client.force_login(staff_user)
    return client


def new_ticket(tenant: Tenant, priority: str = "P2", **kw: Any) -> Ticket:
    kw.setdefault("at", MONDAY_10)
    return actions.open_ticket(
        tenant.customer,
        "Shop is slow",
        "Since this morning",
        channel=Ticket.Channel.EMAIL,
        priority=priority,
        asset=tenant.asset,
        requester=tenant.contact,
        requester_email="alice@c90001.example",
        verified=True,
        **kw,
    )


def post(client: Client, ticket: Ticket, route: str, **data: Any) -> Any:
    return client.post(f"/staff/tickets/{ticket.number}/{route}/", data)


# --- access ------------------------------------------------------------------


def test_customers_get_404_and_strangers_the_login(
    client: Client, customer_a: Tenant, webosa: Tenant
) -> None:
    ticket = new_ticket(webosa)
    urls = ["/staff/tickets/", f"/staff/tickets/{ticket.number}/", "/staff/tickets/new/"]
    for url in urls:
        assert client.get(url).status_code == 302
    client.force_login(customer_a.user)
    for url in urls:
        assert client.get(url).status_code == 404
    assert post(client, ticket, "assign", me="1").status_code == 404
    assert Ticket.objects.get(pk=ticket.pk).assignee is None


def test_an_unknown_ticket_is_404(staff: Client) -> None:
    assert staff.get("/staff/tickets/LS-1999-999999/").status_code == 404


def test_actions_need_post(staff: Client, webosa: Tenant) -> None:
    ticket = new_ticket(webosa)
    assert staff.get(f"/staff/tickets/{ticket.number}/assign/").status_code == 405


# --- the page ------------------------------------------------------------------


@time_machine.travel(MONDAY_10 + timedelta(minutes=30), tick=False)
def test_the_page_shows_thread_sla_contract_and_time(
    staff: Client, webosa: Tenant, staff_user: User
) -> None:
    ticket = new_ticket(webosa)
    actions.internal_note(ticket, staff_user, "Customer is on the old PHP version")
    actions.assign(ticket, staff_user, staff_user)
    actions.log_time(ticket, staff_user, "it_support", timedelta(minutes=20))
    response = staff.get(f"/staff/tickets/{ticket.number}/")
    assert response.status_code == 200, response
    page = response.content.decode()
    assert "Since this morning" in page
    assert "Customer is on the old PHP version" in page
    assert "message-note" in page
    assert "message-customer" in page
    assert "assignee – → operator" in page  # the system line of the assignment
    assert "Initial response" in page
    assert "Diagnosis" in page
    assert "not started (counts from the diagnosis)" in page  # restoration
    assert "50 % used" in page  # 30 of 60 business minutes of the initial response
    assert "webosa" in page  # the SLA policy
    assert webosa.asset.name in page
    assert "20 min in total, 20 min billable." in page  # a request; IT support is priced


# --- assign ----------------------------------------------------------------


def test_assign_to_me_then_to_someone_then_nobody(
    staff: Client, webosa: Tenant, staff_user: User
) -> None:
    ticket = new_ticket(webosa)
    colleague = User.objects.create_user("colleague", "c@provider.example", "x", is_staff=True)
    assert post(staff, ticket, "assign", me="1").status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).assignee == staff_user
    post(staff, ticket, "assign", assignee=colleague.pk)
    assert Ticket.objects.get(pk=ticket.pk).assignee == colleague
    post(staff, ticket, "assign", assignee="")
    assert Ticket.objects.get(pk=ticket.pk).assignee is None
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", "new_value"))
    assert kinds == [("assignee", "operator"), ("assignee", "colleague"), ("assignee", "")]


def test_a_customer_user_cannot_be_assigned(staff: Client, webosa: Tenant) -> None:
    ticket = new_ticket(webosa)
    response = post(staff, ticket, "assign", assignee=webosa.user.pk)
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).assignee is None
    with pytest.raises(ValueError, match="only active staff"):
        actions.assign(ticket, None, webosa.user)


# --- state and priority ---------------------------------------------------------


def test_waiting_pauses_the_queue_deadline_and_open_restores_it(
    staff: Client, webosa: Tenant
) -> None:
    with time_machine.travel(MONDAY_10, tick=False):
        ticket = new_ticket(webosa)
    assert ticket.sla_due_at == MONDAY_10 + timedelta(hours=1)
    assert ticket.sla_due_target == "initial_response"
    with time_machine.travel(MONDAY_10 + timedelta(minutes=10), tick=False):
        assert post(staff, ticket, "state", status="waiting").status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "waiting"
    assert ticket.sla_due_at is None
    with time_machine.travel(MONDAY_10 + timedelta(hours=2, minutes=10), tick=False):
        post(staff, ticket, "state", status="open")
    ticket.refresh_from_db()
    # Two hours of waiting do not count: due two hours later than before.
    assert ticket.sla_due_at == MONDAY_10 + timedelta(hours=3)
    assert ticket.waiting_periods.get().ended_at is not None
    events = list(ticket.events.values_list("old_value", "new_value"))
    assert events == [("new", "waiting"), ("waiting", "open")]


def test_an_unknown_state_is_a_form_error(staff: Client, webosa: Tenant) -> None:
    ticket = new_ticket(webosa)
    response = post(staff, ticket, "state", status="deleted")
    assert response.status_code == 400
    assert Ticket.objects.get(pk=ticket.pk).status == "new"


def test_priority_change_recomputes_the_clocks(staff: Client, webosa: Tenant) -> None:
    # Friday 16:30: P2 counts business hours (due Monday 09:30), P1 clock hours (17:30).
    friday = datetime(2026, 11, 20, 16, 30, tzinfo=AMS)
    ticket = new_ticket(webosa, "P2", at=friday)
    assert ticket.sla_due_at == datetime(2026, 11, 23, 9, 30, tzinfo=AMS)
    assert post(staff, ticket, "priority", priority="P1").status_code == 302
    ticket.refresh_from_db()
    assert ticket.priority == "P1"
    assert ticket.sla_due_at == friday + timedelta(hours=1)
    assert ticket.events.get().new_value == "P1"


def test_a_priority_outside_the_policy_is_refused(staff: Client, webosa: Tenant) -> None:
    ticket = new_ticket(webosa)
    response = post(staff, ticket, "priority", priority="P9")
    assert response.status_code == 400
    assert Ticket.objects.get(pk=ticket.pk).priority == "P2"


def test_milestones_move_the_next_deadline(staff: Client, webosa: Tenant, staff_user: User) -> None:
    with time_machine.travel(MONDAY_10, tick=False):
        ticket = new_ticket(webosa, "P1")
    with time_machine.travel(MONDAY_10 + timedelta(minutes=5), tick=False):
        actions.reply(ticket, staff_user, "on it")
    ticket.refresh_from_db()
    assert ticket.sla_due_target == "diagnosis"
    with time_machine.travel(MONDAY_10 + timedelta(hours=1), tick=False):
        assert post(staff, ticket, "milestone", field="diagnosed_at").status_code == 302
    ticket.refresh_from_db()
    assert ticket.sla_due_target == "restoration"
    assert ticket.sla_due_at == MONDAY_10 + timedelta(hours=5)
    post(staff, ticket, "milestone", field="restored_at")
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None
    assert ticket.sla_due_target == ""
    assert post(staff, ticket, "milestone", field="closed_at").status_code == 302
    assert set(ticket.events.values_list("kind", flat=True)) == {"diagnosed_at", "restored_at"}


# --- replies by e-mail ---------------------------------------------------------------


def test_a_reply_is_mailed_and_the_answer_threads_back(
    staff: Client, webosa: Tenant, smtp: SmtpSink
) -> None:
    ticket = new_ticket(webosa)
    ticket.messages.update(message_id="<first@c90001.example>")
    response = post(staff, ticket, "reply", **{"reply-body": "Please restart the shop."})
    assert response.status_code == 302
    (mail,) = smtp.received
    assert mail["To"] == "alice@c90001.example"
    assert mail["Subject"] == f"[{ticket.number}] Shop is slow"
    assert mail["In-Reply-To"] == "<first@c90001.example>"
    assert "Please restart the shop." in mail.get_content()
    message = ticket.messages.get(body="Please restart the shop.")
    assert message.message_id == mail["Message-ID"]
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None
    assert ticket.sla_due_target == "diagnosis"
    answer = (
        "From: alice@c90001.example\r\nTo: support@provider.example\r\n"
        f"Subject: Re: something else\r\nMessage-ID: <answer@c90001.example>\r\n"
        f"In-Reply-To: {mail['Message-ID']}\r\n\r\nDone, thanks.\r\n"
    ).encode()
    outcome = inbound.receive(answer, mailbox=inbound.Mailbox("support@provider.example"))
    assert (outcome.kind, outcome.ticket_number) == ("follow_up", ticket.number)


def test_a_refused_reply_keeps_the_text_and_stores_nothing(
    staff: Client, webosa: Tenant, smtp: SmtpSink
) -> None:
    ticket = new_ticket(webosa)
    smtp.refuse = True
    response = post(staff, ticket, "reply", **{"reply-body": "Please restart the shop."})
    assert response.status_code == 502
    page = response.content.decode()
    assert "could not be sent" in page
    assert "Please restart the shop." in page  # still in the form
    assert not ticket.messages.filter(body="Please restart the shop.").exists()
    ticket.refresh_from_db()
    assert ticket.first_response_at is None


def test_a_reply_without_an_address_is_stored_and_says_so(
    staff: Client, webosa: Tenant, smtp: SmtpSink
) -> None:
    ticket = actions.open_ticket(webosa.customer, "Call", "called", channel="phone")
    response = post(staff, ticket, "reply", **{"reply-body": "Call me back"})
    assert response.status_code == 302
    assert smtp.received == []
    assert ticket.messages.filter(body="Call me back", internal=False).exists()
    follow = staff.get(response.url).content.decode()
    assert "was not mailed" in follow


def test_an_empty_reply_is_a_form_error(staff: Client, webosa: Tenant, smtp: SmtpSink) -> None:
    ticket = new_ticket(webosa)
    response = post(staff, ticket, "reply", **{"reply-body": ""})
    assert response.status_code == 400
    assert smtp.received == []


def test_internal_notes_stay_internal(
    staff: Client, client: Client, webosa: Tenant, smtp: SmtpSink
) -> None:
    ticket = new_ticket(webosa)
    assert post(staff, ticket, "note", **{"note-body": "Do not tell them yet"}).status_code == 302
    assert smtp.received == []
    note = ticket.messages.get(body="Do not tell them yet")
    assert note.internal
    ticket.refresh_from_db()
    assert ticket.first_response_at is None  # a note is no response
    customer = Client()
    customer.force_login(webosa.user)
    assert (
        "Do not tell them yet"
        not in customer.get(f"/portal/tickets/{ticket.number}/").content.decode()
    )


# --- time ------------------------------------------------------------------------


def test_manual_time_is_priced_by_the_contract(staff: Client, webosa: Tenant) -> None:
    ticket = new_ticket(webosa, kind=Ticket.Kind.REQUEST)
    response = post(staff, ticket, "time", action="log", work_type="it_support", minutes="25")
    assert response.status_code == 302
    entry = TimeEntry.objects.get(ticket=ticket)
    assert (entry.seconds, entry.work_type, entry.billable) == (1500, "it_support", True)


@pytest.mark.parametrize("minutes", ["0", "-5", "abc", "100000", ""])
def test_bad_minutes_are_form_errors(staff: Client, webosa: Tenant, minutes: str) -> None:
    ticket = new_ticket(webosa)
    response = post(staff, ticket, "time", action="log", work_type="it_support", minutes=minutes)
    assert response.status_code == 400
    assert not TimeEntry.objects.exists()


def test_an_unknown_work_type_is_refused(staff: Client, webosa: Tenant) -> None:
    ticket = new_ticket(webosa)
    response = post(staff, ticket, "time", action="log", work_type="golf", minutes="5")
    assert response.status_code == 400


def test_the_timer_records_the_time_between_start_and_stop(
    staff: Client, webosa: Tenant, staff_user: User
) -> None:
    ticket = new_ticket(webosa)
    with time_machine.travel(MONDAY_10, tick=False):
        post(staff, ticket, "time", action="start", work_type="basic_support")
        assert RunningTimer.objects.get().user == staff_user
        again = post(staff, ticket, "time", action="start", work_type="basic_support")
        assert RunningTimer.objects.count() == 1
        assert "already running" in staff.get(again.url).content.decode()
    with time_machine.travel(MONDAY_10 + timedelta(minutes=17), tick=False):
        page = staff.get(f"/staff/tickets/{ticket.number}/").content.decode()
        assert "Timer running for 17 min" in page
        post(staff, ticket, "time", action="stop", note="checked logs")
    entry = TimeEntry.objects.get()
    assert (entry.seconds, entry.work_type, entry.note) == (
        17 * 60,
        "basic_support",
        "checked logs",
    )
    assert entry.started_at == MONDAY_10
    assert not RunningTimer.objects.exists()
    stop_again = post(staff, ticket, "time", action="stop")
    assert "No timer is running" in staff.get(stop_again.url).content.decode()


# --- outside the service scope ---------------------------------------------------


def test_an_incorrect_incident_report_becomes_billable(
    staff: Client, webosa: Tenant, staff_user: User
) -> None:
    """Seed 002 §1.5: not an actual incident -> the IT Support rate applies."""
    ticket = new_ticket(webosa, kind=Ticket.Kind.INCIDENT)
    actions.log_time(ticket, staff_user, "it_support", timedelta(minutes=30))
    assert TimeEntry.objects.get().billable is False  # §1.4: incidents are free
    assert post(staff, ticket, "scope", out_of_scope="on").status_code == 302
    ticket.refresh_from_db()
    assert ticket.out_of_scope
    assert TimeEntry.objects.get().billable is True
    actions.log_time(ticket, staff_user, "it_support", timedelta(minutes=10))
    assert TimeEntry.objects.filter(billable=True).count() == 2
    post(staff, ticket, "scope")  # unmark
    ticket.refresh_from_db()
    assert not ticket.out_of_scope
    assert not TimeEntry.objects.filter(billable=True).exists()
    assert list(ticket.events.values_list("new_value", flat=True)) == ["True", "False"]


def test_invoiced_time_keeps_its_billability(webosa: Tenant, staff_user: User) -> None:
    from datetime import date

    from leitstand.billing.models import Invoice, InvoiceLine

    ticket = new_ticket(webosa, kind=Ticket.Kind.INCIDENT)
    entry = actions.log_time(ticket, staff_user, "it_support", timedelta(minutes=30))
    invoice = Invoice.objects.create(
        customer=webosa.customer,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        vat_treatment="standard",
    )
    line = InvoiceLine.objects.create(
        invoice=invoice,
        position=1,
        kind="time",
        description="x",
        quantity=1,
        unit="h",
        unit_price=0,
        vat_rate=19,
        net=0,
        vat=0,
    )
    line.time_entries.add(entry)
    actions.set_out_of_scope(ticket, staff_user, True)
    entry.refresh_from_db()
    assert entry.billable is False


# --- a phone call ------------------------------------------------------------------


def test_a_phone_call_becomes_a_ticket(staff: Client, webosa: Tenant, staff_user: User) -> None:
    page = staff.get("/staff/tickets/new/?customer=c90001")
    assert page.status_code == 200
    assert webosa.asset.name in page.content.decode()
    response = staff.post(
        "/staff/tickets/new/?customer=C90001",
        {
            "kind": "incident",
            "subject": "Mail is down",
            "body": "Caller says no mail since 9",
            "asset": webosa.asset.pk,
            "requester": webosa.contact.pk,
            "verified": "on",
            "priority": "P1",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(subject="Mail is down")
    assert (ticket.channel, ticket.kind, ticket.priority) == ("phone", "incident", "P1")
    assert ticket.verified
    assert ticket.requester == webosa.contact
    assert ticket.assignee == staff_user
    assert ticket.contract == webosa.contract
    assert ticket.sla_due_target == "initial_response"
    assert ticket.messages.get().author_user == staff_user


def test_a_phone_call_with_a_bad_priority_opens_nothing(staff: Client, webosa: Tenant) -> None:
    response = staff.post(
        "/staff/tickets/new/?customer=C90001",
        {
            "kind": "incident",
            "subject": "x",
            "body": "y",
            "priority": "P7",
            "asset": webosa.asset.pk,
        },
    )
    assert response.status_code == 400
    assert "not defined by the SLA policy" in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_phone_call_cannot_use_another_customers_asset(
    staff: Client, webosa: Tenant, customer_b: Tenant
) -> None:
    response = staff.post(
        "/staff/tickets/new/?customer=C90001",
        {"kind": "request", "subject": "x", "body": "y", "asset": customer_b.asset.pk},
    )
    assert response.status_code == 400
    assert not Ticket.objects.exists()


def test_an_unknown_customer_number_is_a_form_error(staff: Client, db: None) -> None:
    page = staff.get("/staff/tickets/new/?customer=C00000").content.decode()
    assert "No customer has the number C00000." in page


def test_thread_orders_messages_and_events(webosa: Tenant, staff_user: User) -> None:
    from leitstand.helpdesk.staff_views import thread

    ticket = new_ticket(webosa, at=MONDAY_10)
    actions.record_event(
        ticket, staff_user, "status", "new", "open", at=MONDAY_10 + timedelta(minutes=1)
    )
    Message.objects.create(
        ticket=ticket,
        created_at=MONDAY_10 + timedelta(minutes=2),
        body="check",
        channel="monitoring",
    )
    actions.reply(ticket, staff_user, "hi", at=MONDAY_10 + timedelta(minutes=3))
    kinds = [e.kind for e in thread(ticket)]
    assert kinds == ["customer", "event", "system", "staff"]
