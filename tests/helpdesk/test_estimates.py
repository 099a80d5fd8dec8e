"""Paid work: authorisation, estimates, the customer's approval in the portal or by
reply, and what it means for billable time (seed 001 §4, 003 §1, 002 §1.5/1.6)."""

from __future__ import annotations

import email
import email.message
import email.policy
import smtplib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st
from tests.alerting.conftest import SmtpSink
from tests.conftest import PASSWORD, Tenant

from leitstand.accounts.models import User
from leitstand.contracts.catalog import load_file
from leitstand.contracts.models import Contact, Plan, VerifiedEmail
from leitstand.core.demo import CATALOG
from leitstand.core.periodic import REGISTRY
from leitstand.helpdesk import actions, estimates, inbound
from leitstand.helpdesk.estimates import Answer, EstimateError, Order, mail_answer, order_state
from leitstand.helpdesk.inbound import Mailbox
from leitstand.helpdesk.models import Estimate, InboundMail, Message, Ticket

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # a Tuesday morning
SUPPORT = Mailbox(address="support@provider.example")
MINUTE = timedelta(minutes=1)


# --------------------------------------------------------------------------
# Pure rules


@pytest.mark.parametrize(
    ("request_is_order", "requires", "authorised", "approved", "out_of_scope", "expected"),
    [
        # seed 001 §4: the request is the order, if an authorised person made it
        (True, False, True, False, False, Order.ORDERED_BY_REQUEST),
        (True, False, False, False, False, Order.NEEDS_AUTHORISED_REQUEST),
        (True, False, False, True, False, Order.APPROVED),
        # seed 003 §1: "nach Rücksprache mit dem Kunden"
        (False, True, True, False, False, Order.NEEDS_APPROVAL),
        (False, True, False, True, False, Order.APPROVED),
        # seed 002 §1.5: an incorrect incident report may be charged
        (False, True, False, False, True, Order.CHARGEABLE),
        (False, False, False, False, False, Order.NOT_REQUIRED),
    ],
)
def test_order_state(
    request_is_order: bool,
    requires: bool,
    authorised: bool,
    approved: bool,
    out_of_scope: bool,
    expected: Order,
) -> None:
    state = order_state(
        request_is_order=request_is_order,
        requires_approval=requires,
        authorised_request=authorised,
        approved_estimate=approved,
        out_of_scope=out_of_scope,
    )
    assert state == expected
    assert state.ok == (expected not in {Order.NEEDS_APPROVAL, Order.NEEDS_AUTHORISED_REQUEST})


REF = "LS-2026-000001-E1"
OUTLOOK_QUOTE = (
    "-----Original Message-----\nFrom: support\n\n    APPROVE LS-2026-000001-E1\n\n"
    "    DECLINE LS-2026-000001-E1\n"
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (f"APPROVE {REF}\n\nThanks, go ahead.", Answer.APPROVE),
        (f"  approve: {REF}", Answer.APPROVE),
        (f"Freigabe {REF}\nBitte umsetzen.", Answer.APPROVE),
        (f"DECLINE {REF}\ntoo expensive", Answer.DECLINE),
        (f"abgelehnt {REF}", Answer.DECLINE),
        # the keyword alone, or the reference alone, says nothing
        ("APPROVE", None),
        (f"About {REF}: what does it include?", None),
        # another estimate of the same ticket
        ("APPROVE LS-2026-000001-E12", None),
        # a quoted original lists both keywords: it is not the answer
        (f"> APPROVE {REF}\n> DECLINE {REF}\n", None),
        (f"Sounds good.\n\n{OUTLOOK_QUOTE}", None),
        (f"APPROVE {REF}\n\n{OUTLOOK_QUOTE}", Answer.APPROVE),
        (f"Am 24.11.2026 schrieb Support:\n    APPROVE {REF}\n", None),
        # both answers in the new text: staff must ask
        (f"APPROVE {REF}\nDECLINE {REF}", Answer.AMBIGUOUS),
        # a sentence that happens to start with the word is not the keyword line
        (f"Approved budgets for {REF} are pending", None),
    ],
)
def test_mail_answer(body: str, expected: Answer | None) -> None:
    assert mail_answer(body, REF) == expected


# --------------------------------------------------------------------------
# The world


@dataclass
class PaidWorld:
    """Customer A on cloudflux (prior agreement), Alice may order, Carl may not."""

    a: Tenant
    b: Tenant
    ticket: Ticket
    staff: User
    carl: Contact
    carl_user: User


@pytest.fixture
def paid(customer_a: Tenant, customer_b: Tenant, staff_user: User, settings: Any) -> PaidWorld:
    settings.TICKET_NUMBER_FORMAT = "LS-{year}-{seq:06d}"
    settings.HELPDESK_EMAIL = "support@provider.example"
    load_file(CATALOG)
    plan = Plan.objects.get(name="cloudflux-managed-server")
    for tenant in (customer_a, customer_b):
        tenant.customer.language = "en"
        tenant.customer.save()
        tenant.contract.plan = plan
        tenant.contract.save()
        tenant.contact.may_order_paid_work = True
        tenant.contact.save()
        VerifiedEmail.objects.filter(contact=tenant.contact).update(verified_at=T0)
    # an unverified address of the authorised contact gets nothing
    VerifiedEmail.objects.create(contact=customer_a.contact, address="alice.private@home.example")
    carl = Contact.objects.create(customer=customer_a.customer, name="Carl Technik")
    VerifiedEmail.objects.create(contact=carl, address="carl@c90001.example", verified_at=T0)
    carl_user = User(customer=customer_a.customer, login="carl", email="carl@c90001.example")
    carl_user.set_password(PASSWORD)
    carl_user.save()
    ticket = actions.open_ticket(
        customer_a.customer,
        "Install a PHP extension",
        "Please install php-imagick.",
        channel=Ticket.Channel.EMAIL,
        requester=customer_a.contact,
        requester_email="alice@c90001.example",
        verified=True,
        asset=customer_a.asset,
        at=T0,
    )
    return PaidWorld(customer_a, customer_b, ticket, staff_user, carl, carl_user)


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpSink]:
    """A real SMTP server on loopback, and the site's mail going to it."""
    sink = SmtpSink()
    sink.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield sink
    sink.stop()


def draft(world: PaidWorld, **kw: Any) -> Estimate:
    values: dict[str, Any] = {
        "description": "Install php-imagick from the distribution's packages and restart PHP-FPM.",
        "work_type": "special_support",
        "effort": timedelta(hours=2),
        "amount": None,
        "valid_until": T0 + timedelta(days=14),
        "at": T0,
    }
    values.update(kw)
    return estimates.create(world.ticket, world.staff, **values)


def sent(world: PaidWorld, **kw: Any) -> Estimate:
    return estimates.send(draft(world, **kw), world.staff, at=T0 + timedelta(minutes=5))


pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------
# Creating and sending


def test_the_amount_comes_from_the_rate_card(paid: PaidWorld) -> None:
    estimate = draft(paid)
    # seed 003 §1: 35,00 EUR je angefangener Viertelstunde; 2 h = 8 quarters
    assert estimate.amount == Decimal("280.00")
    assert (estimate.currency, estimate.state, estimate.reference) == (
        "EUR",
        Estimate.State.DRAFT,
        "LS-2026-000001-E1",
    )
    assert draft(paid, amount=Decimal("99.50")).reference == "LS-2026-000001-E2"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"work_type": "gardening"}, "does not price this work type"),
        ({"effort": timedelta(0)}, "must be positive"),
        ({"description": "   "}, "Describe the work"),
        ({"amount": Decimal("-1")}, "non-negative"),
        ({"amount": Decimal("1.234")}, "euros and cents"),
        ({"valid_until": T0 - timedelta(minutes=1)}, "in the future"),
        ({"valid_until": T0 + timedelta(days=400)}, "up to a year"),
    ],
)
def test_bad_estimates_are_refused_with_a_reason(
    paid: PaidWorld, kw: dict[str, Any], message: str
) -> None:
    with pytest.raises(EstimateError, match=message):
        draft(paid, **kw)
    assert not Estimate.objects.exists()


def test_sending_mails_the_authorised_contacts_verified_addresses(
    paid: PaidWorld, smtp: SmtpSink
) -> None:
    estimate = sent(paid)
    assert estimate.state == Estimate.State.SENT
    assert estimate.sent_to == ["alice@c90001.example"]  # not Carl, not the unverified one
    [mail] = smtp.received
    assert mail.recipients == ["alice@c90001.example"]
    assert mail.header("Subject") == (
        "[LS-2026-000001] Estimate LS-2026-000001-E1: Install a PHP extension"
    )
    body = mail.data.decode()
    assert "APPROVE LS-2026-000001-E1" in body
    assert "DECLINE LS-2026-000001-E1" in body
    assert "280.00 EUR" in body
    # frozen text and its digest; posted on the ticket, threaded by its Message-ID
    assert estimate.text_sha256 == estimates.digest(estimate.text)
    assert estimate.sent_message is not None
    assert estimate.sent_message.message_id == mail.header("Message-ID")
    assert not estimate.sent_message.internal
    paid.ticket.refresh_from_db()
    assert paid.ticket.first_response_at == T0 + timedelta(minutes=5)


def test_without_an_authorised_contact_nothing_is_sent(paid: PaidWorld, smtp: SmtpSink) -> None:
    Contact.objects.filter(pk=paid.a.contact.pk).update(may_order_paid_work=False)
    estimate = draft(paid)
    with pytest.raises(EstimateError, match="nobody could approve"):
        estimates.send(estimate, paid.staff, at=T0)
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.DRAFT
    assert smtp.received == []


def test_a_refusing_mail_server_leaves_a_draft_and_no_message(
    paid: PaidWorld, smtp: SmtpSink
) -> None:
    smtp.reply = "554 5.7.1 rejected"
    estimate = draft(paid)
    with pytest.raises(smtplib.SMTPDataError, match="rejected"):
        estimates.send(estimate, paid.staff, at=T0)
    estimate.refresh_from_db()
    assert (estimate.state, estimate.text) == (Estimate.State.DRAFT, "")
    assert paid.ticket.messages.count() == 1


def test_only_drafts_are_sent_and_answered_ones_cannot_be_withdrawn(
    paid: PaidWorld, smtp: SmtpSink
) -> None:
    estimate = sent(paid)
    with pytest.raises(EstimateError, match="Only a draft"):
        estimates.send(estimate, paid.staff)
    estimates.withdraw(estimate, at=T0 + timedelta(hours=1))
    assert estimate.state == Estimate.State.WITHDRAWN
    with pytest.raises(EstimateError, match="already answered"):
        estimates.withdraw(estimate)


def test_unanswered_estimates_expire(paid: PaidWorld, smtp: SmtpSink) -> None:
    estimate = sent(paid, valid_until=T0 + timedelta(days=1))
    assert estimates.expire(now=T0 + timedelta(hours=23)) == 0
    assert estimates.expire(now=T0 + timedelta(days=1, seconds=1)) == 1
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.EXPIRED
    assert f"{estimates.expire_due.__module__}.expire_due" in REGISTRY


# --------------------------------------------------------------------------
# Answer in the portal


def test_an_authorised_contact_approves_in_the_portal(
    client: Client, paid: PaidWorld, smtp: SmtpSink
) -> None:
    estimate = sent(paid)
    client.force_login(paid.a.user)
    url = f"/portal/helpdesk/estimates/{estimate.reference}/"
    page = client.get(url).content.decode()
    assert "280.00 EUR" in page
    assert 'value="approve"' in page
    response = client.post(
        url,
        {"action": "approve", "text_sha256": estimate.text_sha256, "comment": "Go ahead"},
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 302
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.APPROVED
    assert estimate.decided_via == Estimate.Via.PORTAL
    assert estimate.decided_by_contact == paid.a.contact
    assert estimate.decided_by_user == paid.a.user
    assert estimate.approved_text == estimate.text
    assert estimate.decision_evidence["text_sha256"] == estimate.text_sha256
    assert estimate.decision_evidence["remote_addr"] == "198.51.100.7"
    assert estimate.decision_message is not None
    assert "Go ahead" in estimate.decision_message.body
    # answered once is answered
    again = client.post(url, {"action": "decline", "text_sha256": estimate.text_sha256})
    assert again.status_code == 302
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.APPROVED
    page = client.get(url).content.decode()
    assert "by Alice Contact" in page
    assert 'value="approve"' not in page


def test_an_approval_counts_only_for_the_text_shown(paid: PaidWorld, smtp: SmtpSink) -> None:
    estimate = sent(paid)
    with pytest.raises(EstimateError, match="not the one on record"):
        estimates.answer_in_portal(estimate, paid.a.user, Answer.APPROVE, text_sha256="0" * 64)
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.SENT


def test_a_user_who_may_not_order_reads_but_cannot_approve(
    client: Client, paid: PaidWorld, smtp: SmtpSink
) -> None:
    estimate = sent(paid)
    client.force_login(paid.carl_user)
    url = f"/portal/helpdesk/estimates/{estimate.reference}/"
    page = client.get(url).content.decode()
    assert "280.00 EUR" in page
    assert 'value="approve"' not in page
    assert "authorised to order paid work" in page
    client.post(url, {"action": "approve", "text_sha256": estimate.text_sha256})
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.SENT
    with pytest.raises(EstimateError, match="authorised to order paid work"):
        estimates.answer_in_portal(
            estimate, paid.carl_user, Answer.APPROVE, text_sha256=estimate.text_sha256
        )


def test_an_expired_estimate_cannot_be_approved(paid: PaidWorld, smtp: SmtpSink) -> None:
    estimate = sent(paid, valid_until=T0 + timedelta(days=1))
    with pytest.raises(EstimateError, match="cannot be answered any more"):
        estimates.answer_in_portal(
            estimate,
            paid.a.user,
            Answer.APPROVE,
            text_sha256=estimate.text_sha256,
            at=T0 + timedelta(days=2),
        )
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.EXPIRED


def test_the_portal_lists_and_shows_only_own_sent_estimates(
    client: Client, paid: PaidWorld, smtp: SmtpSink
) -> None:
    mine = sent(paid)
    hidden = draft(paid)
    theirs_ticket = actions.open_ticket(
        paid.b.customer, "B's work", "x", channel="portal", asset=paid.b.asset, at=T0
    )
    theirs = estimates.create(
        theirs_ticket,
        paid.staff,
        description="B's work",
        work_type="special_support",
        effort=timedelta(hours=1),
        amount=None,
        valid_until=T0 + timedelta(days=3),
        at=T0,
    )
    estimates.send(theirs, paid.staff, at=T0)
    client.force_login(paid.a.user)
    listing = client.get("/portal/helpdesk/estimates/").content.decode()
    assert mine.reference in listing
    assert hidden.reference not in listing
    assert theirs.reference not in listing
    assert client.get(f"/portal/helpdesk/estimates/{hidden.reference}/").status_code == 404
    assert client.get(f"/portal/helpdesk/estimates/{theirs.reference}/").status_code == 404
    response = client.post(
        f"/portal/helpdesk/estimates/{theirs.reference}/",
        {"action": "approve", "text_sha256": theirs.text_sha256},
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == Estimate.State.SENT
    # the ticket page shows the pending estimate
    ticket_page = client.get(f"/portal/tickets/{paid.ticket.number}/").content.decode()
    assert mine.reference in ticket_page
    assert hidden.reference not in ticket_page


# --------------------------------------------------------------------------
# Answer by e-mail


def reply(
    estimate: Estimate, body: str, *, sender: str = "alice@c90001.example", **headers: str
) -> bytes:
    assert estimate.sent_message is not None
    lines = [
        f"From: {sender}",
        f"Subject: Re: [{estimate.ticket.number}] Estimate {estimate.reference}",
        f"Message-ID: <answer-{sender}-{len(body)}@c90001.example>",
        f"In-Reply-To: {estimate.sent_message.message_id}",
        *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items()),
    ]
    return ("\n".join(lines) + "\n\n" + body + "\n").encode()


def test_a_reply_from_an_authorised_verified_address_approves(
    paid: PaidWorld, smtp: SmtpSink
) -> None:
    estimate = sent(paid)
    quoted = "\n".join(f"> {line}" for line in estimate.text.splitlines())
    raw = reply(estimate, f"APPROVE {estimate.reference}\n\nPlease go ahead.\n\n{quoted}")
    outcome = inbound.receive(raw, mailbox=SUPPORT, at=T0 + timedelta(hours=1))
    assert (outcome.kind, outcome.ticket_number) == ("follow_up", paid.ticket.number)
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.APPROVED
    assert estimate.decided_via == Estimate.Via.EMAIL
    assert estimate.decided_email == "alice@c90001.example"
    assert estimate.decided_by_contact == paid.a.contact
    assert estimate.decided_at == T0 + timedelta(hours=1)
    assert estimate.approved_text == estimate.text
    assert estimate.decision_message is not None
    assert estimate.decision_message.message_id == estimate.decision_evidence["message_id"]
    assert "Please go ahead." in estimate.decision_message.body


def test_a_reply_can_decline(paid: PaidWorld, smtp: SmtpSink) -> None:
    estimate = sent(paid)
    inbound.receive(reply(estimate, f"DECLINE {estimate.reference}"), mailbox=SUPPORT)
    estimate.refresh_from_db()
    assert (estimate.state, estimate.approved_text) == (Estimate.State.DECLINED, "")


def note_on(ticket: Ticket) -> str:
    notes = ticket.messages.filter(internal=True)
    return "\n".join(n.body for n in notes)


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        ("carl@c90001.example", "may not order paid work"),
        ("alice.private@home.example", "not a verified address"),
    ],
)
def test_a_reply_that_cannot_count_is_a_follow_up_with_a_note(
    paid: PaidWorld, smtp: SmtpSink, sender: str, reason: str
) -> None:
    estimate = sent(paid)
    outcome = inbound.receive(
        reply(estimate, f"APPROVE {estimate.reference}", sender=sender), mailbox=SUPPORT
    )
    assert outcome.kind == "follow_up"
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.SENT
    assert reason in note_on(paid.ticket)


def test_a_reply_our_mta_does_not_vouch_for_does_not_count(
    paid: PaidWorld, smtp: SmtpSink, settings: Any
) -> None:
    settings.HELPDESK_AUTHSERV_ID = "mx.provider.example"
    estimate = sent(paid)
    forged = reply(
        estimate,
        f"APPROVE {estimate.reference}",
        Authentication_Results="mx.provider.example; dmarc=fail header.from=c90001.example",
    )
    inbound.receive(forged, mailbox=SUPPORT)
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.SENT
    assert "DMARC" in note_on(paid.ticket)
    genuine = reply(
        estimate,
        f"APPROVE {estimate.reference}\n",
        Authentication_Results="mx.provider.example; dmarc=pass header.from=c90001.example",
    ).replace(b"Message-ID: <answer-", b"Message-ID: <genuine-")
    inbound.receive(genuine, mailbox=SUPPORT)
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.APPROVED
    assert estimate.decision_evidence["dmarc"] == [["mx.provider.example", "pass"]]


def test_a_reply_without_the_keyword_line_is_just_a_follow_up(
    paid: PaidWorld, smtp: SmtpSink
) -> None:
    estimate = sent(paid)
    inbound.receive(
        reply(estimate, "What does this include? Is the restart at night?"), mailbox=SUPPORT
    )
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.SENT
    assert note_on(paid.ticket) == ""
    assert paid.ticket.messages.filter(channel="email").count() == 2


def test_an_ambiguous_reply_is_left_to_staff(paid: PaidWorld, smtp: SmtpSink) -> None:
    estimate = sent(paid)
    body = f"APPROVE {estimate.reference}\nDECLINE {estimate.reference}"
    inbound.receive(reply(estimate, body), mailbox=SUPPORT)
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.SENT
    assert "approves and declines" in note_on(paid.ticket)


def test_a_late_reply_does_not_approve_an_expired_estimate(paid: PaidWorld, smtp: SmtpSink) -> None:
    estimate = sent(paid, valid_until=T0 + timedelta(days=1))
    inbound.receive(
        reply(estimate, f"APPROVE {estimate.reference}"),
        mailbox=SUPPORT,
        at=T0 + timedelta(days=3),
    )
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.EXPIRED
    assert "cannot be answered any more" in note_on(paid.ticket)


# --------------------------------------------------------------------------
# What it means for billable time


def test_billable_time_waits_for_an_approved_estimate(paid: PaidWorld, smtp: SmtpSink) -> None:
    before = actions.log_time(
        paid.ticket, paid.staff, "special_support", timedelta(minutes=30), started_at=T0
    )
    assert not before.billable
    missing = estimates.approval_missing(paid.ticket)
    assert missing is not None
    assert "prior agreement" in missing
    estimate = sent(paid)
    estimates.answer_in_portal(
        estimate, paid.a.user, Answer.APPROVE, text_sha256=estimate.text_sha256
    )
    after = actions.log_time(paid.ticket, paid.staff, "special_support", timedelta(minutes=30))
    assert after.billable
    assert estimates.approval_missing(paid.ticket) is None
    before.refresh_from_db()
    assert not before.billable  # work done before the agreement stays free
    # the approval covers its own work type only
    assert not actions.log_time(
        paid.ticket, paid.staff, "install_assist", timedelta(minutes=30)
    ).billable


def test_an_incorrect_incident_report_is_chargeable_without_estimate(paid: PaidWorld) -> None:
    Ticket.objects.filter(pk=paid.ticket.pk).update(out_of_scope=True)
    paid.ticket.refresh_from_db()
    assert actions.log_time(
        paid.ticket, paid.staff, "special_support", timedelta(minutes=30)
    ).billable


def test_where_the_request_is_the_order_an_authorised_verified_request_suffices(
    paid: PaidWorld,
) -> None:
    plan = Plan.objects.get(name="cloudflux-managed-server")
    Plan.objects.filter(pk=plan.pk).update(request_is_order=True, paid_work_requires_approval=False)
    paid.ticket.refresh_from_db()
    assert estimates.order_of(paid.ticket) == Order.ORDERED_BY_REQUEST
    assert actions.log_time(
        paid.ticket, paid.staff, "special_support", timedelta(minutes=30)
    ).billable
    # Carl may not order: his request is no order (seed 001 §4)
    carls = actions.open_ticket(
        paid.a.customer,
        "Me too",
        "x",
        channel=Ticket.Channel.EMAIL,
        requester=paid.carl,
        requester_email="carl@c90001.example",
        verified=True,
        asset=paid.a.asset,
    )
    assert estimates.order_of(carls) == Order.NEEDS_AUTHORISED_REQUEST
    assert not actions.log_time(
        carls, paid.staff, "special_support", timedelta(minutes=30)
    ).billable
    # a portal request is the requester's login address: Alice's is authorised
    portal = actions.open_ticket(
        paid.a.customer,
        "From the portal",
        "x",
        channel=Ticket.Channel.PORTAL,
        requester_email="alice@c90001.example",
        verified=True,
        asset=paid.a.asset,
    )
    assert estimates.order_of(portal) == Order.ORDERED_BY_REQUEST


# --------------------------------------------------------------------------
# The back office


def test_staff_create_and_send_an_estimate_from_the_ticket(
    client: Client, paid: PaidWorld, smtp: SmtpSink
) -> None:
    client.force_login(paid.staff)
    base = f"/staff/tickets/{paid.ticket.number}/estimates/"
    page = client.get(base).content.decode()
    assert "prior agreement" in page
    assert "special_support" in page  # the rate card's work types are offered
    assert '<input type="number" name="amount"' in page
    assert "&lt;input" not in page  # every field is a form control, none shown as text
    bad = client.post(base, {"description": "x", "work_type": "w", "effort_hours": "-1"})
    assert bad.status_code == 200
    assert not Estimate.objects.exists()
    before = datetime.now(UTC)
    response = client.post(
        base,
        {
            "description": "Install php-imagick",
            "work_type": "special_support",
            "effort_hours": "0.5",
            "amount": "",
            "valid_days": "7",
        },
    )
    estimate = Estimate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{base}{estimate.reference}/"
    assert estimate.amount == Decimal("70.00")  # 2 commenced quarters at 35.00
    assert (
        before + timedelta(days=7) <= estimate.valid_until <= datetime.now(UTC) + timedelta(days=7)
    )
    detail = client.get(f"{base}{estimate.reference}/").content.decode()
    assert "Install php-imagick" in detail
    client.post(f"{base}{estimate.reference}/", {"action": "send"})
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.SENT
    assert len(smtp.received) == 1
    # a second send is refused with a message, not a traceback
    response = client.post(f"{base}{estimate.reference}/", {"action": "send"}, follow=True)
    assert "Only a draft can be sent." in response.content.decode()
    assert len(smtp.received) == 1


def test_staff_see_why_the_mail_failed(client: Client, paid: PaidWorld, smtp: SmtpSink) -> None:
    smtp.stop()
    client.force_login(paid.staff)
    estimate = draft(paid, valid_until=datetime.now(UTC) + timedelta(days=3))
    url = f"/staff/tickets/{paid.ticket.number}/estimates/{estimate.reference}/"
    page = client.post(url, {"action": "send"}, follow=True).content.decode()
    assert "could not be sent" in page
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.DRAFT


def test_the_back_office_pages_are_not_for_customers(client: Client, paid: PaidWorld) -> None:
    estimate = draft(paid)
    client.force_login(paid.a.user)
    base = f"/staff/tickets/{paid.ticket.number}/estimates/"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}{estimate.reference}/").status_code == 404
    assert client.post(f"{base}{estimate.reference}/", {"action": "send"}).status_code == 404
    client.logout()
    assert client.get(base).status_code == 302


def test_unknown_references_answer_404(client: Client, paid: PaidWorld) -> None:
    client.force_login(paid.staff)
    assert client.get(f"/staff/tickets/{paid.ticket.number}/estimates/nope/").status_code == 404
    assert client.get("/staff/tickets/LS-1999-000001/estimates/").status_code == 404


def test_answers_are_kept_on_the_thread(paid: PaidWorld, smtp: SmtpSink) -> None:
    estimate = sent(paid)
    estimates.answer_in_portal(
        estimate, paid.a.user, Answer.DECLINE, text_sha256=estimate.text_sha256, comment="Later"
    )
    texts = list(Message.objects.filter(ticket=paid.ticket).values_list("body", flat=True))
    assert any("Declined estimate" in t and "Later" in t for t in texts)


def test_the_ticket_page_links_to_its_estimates(client: Client, paid: PaidWorld) -> None:
    client.force_login(paid.staff)
    page = client.get(f"/staff/tickets/{paid.ticket.number}/").content.decode()
    assert f"/staff/tickets/{paid.ticket.number}/estimates/" in page


def test_staff_see_the_time_recorded_against_the_estimate(
    client: Client, paid: PaidWorld, smtp: SmtpSink
) -> None:
    estimate = sent(paid, effort=timedelta(minutes=30))
    estimates.answer_in_portal(
        estimate,
        paid.a.user,
        Answer.APPROVE,
        text_sha256=estimate.text_sha256,
        at=T0 + timedelta(hours=1),
    )
    start = T0 + timedelta(hours=2)
    actions.log_time(paid.ticket, paid.staff, "special_support", 20 * MINUTE, started_at=start)
    actions.log_time(paid.ticket, paid.staff, "install_assist", 50 * MINUTE, started_at=start)
    estimate.refresh_from_db()
    assert estimates.recorded(estimate) == 20 * MINUTE
    client.force_login(paid.staff)
    url = f"/staff/tickets/{paid.ticket.number}/estimates/{estimate.reference}/"
    page = client.get(url).content.decode()
    assert "20 of 30 minutes estimated" in page
    assert "More than estimated" not in page
    actions.log_time(paid.ticket, paid.staff, "special_support", 15 * MINUTE, started_at=start)
    assert "More than estimated" in client.get(url).content.decode()


def test_a_mail_approval_points_to_the_raw_mail(paid: PaidWorld, smtp: SmtpSink) -> None:
    estimate = sent(paid)
    inbound.receive(reply(estimate, f"APPROVE {estimate.reference}"), mailbox=SUPPORT)
    estimate.refresh_from_db()
    raw = InboundMail.objects.get(pk=estimate.decision_evidence["inbound_mail"])
    assert f"APPROVE {estimate.reference}".encode() in bytes(raw.raw)


def test_the_admin_shows_estimates_but_does_not_change_them(
    admin_client: Client, paid: PaidWorld
) -> None:
    estimate = draft(paid)
    assert admin_client.get("/admin/helpdesk/estimate/").status_code == 200
    page = admin_client.get(f"/admin/helpdesk/estimate/{estimate.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.get("/admin/helpdesk/estimate/add/").status_code == 403
    assert admin_client.get("/admin/helpdesk/slanotice/").status_code == 200


# --------------------------------------------------------------------------
# Properties and corner cases


@given(
    st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=60), max_size=8),
    st.sampled_from(["APPROVE", "DECLINE", "freigabe", "abgelehnt"]),
)
def test_quoted_text_never_answers(lines: list[str], word: str) -> None:
    """Whatever the quoted original says, it is not the customer's answer."""
    body = "\n".join(f"> {line}" for line in [*lines, f"{word} {REF}"])
    assert mail_answer(body, REF) is None


@given(st.text(max_size=300))
def test_text_without_the_reference_never_answers(body: str) -> None:
    assert mail_answer(body.replace(REF, ""), REF) is None


@given(st.booleans(), st.booleans(), st.booleans(), st.booleans())
def test_an_approved_estimate_always_orders_the_work(
    request_is_order: bool, requires: bool, authorised: bool, out_of_scope: bool
) -> None:
    state = order_state(
        request_is_order=request_is_order,
        requires_approval=requires,
        authorised_request=authorised,
        approved_estimate=True,
        out_of_scope=out_of_scope,
    )
    assert state == Order.APPROVED
    assert state.ok


@given(st.booleans(), st.booleans())
def test_an_unauthorised_request_never_orders_where_it_would_be_the_order(
    requires: bool, out_of_scope: bool
) -> None:
    state = order_state(
        request_is_order=True,
        requires_approval=requires,
        authorised_request=False,
        approved_estimate=False,
        out_of_scope=out_of_scope,
    )
    assert state.ok == out_of_scope


def test_the_text_speaks_the_customers_language_and_numbers(paid: PaidWorld) -> None:
    paid.a.customer.language = "de"
    paid.a.customer.save()
    estimate = draft(paid, amount=Decimal("1234.50"), effort=timedelta(minutes=90))
    text = estimates.render_text(estimate)
    assert "1.234,50 EUR" in text
    assert "1,50" in text  # hours
    assert "Europe/Berlin" in text


def test_a_withdrawn_estimate_cannot_be_answered(paid: PaidWorld, smtp: SmtpSink) -> None:
    estimate = sent(paid)
    estimates.withdraw(estimate)
    with pytest.raises(EstimateError, match="cannot be answered any more"):
        estimates.answer_in_portal(
            estimate, paid.a.user, Answer.APPROVE, text_sha256=estimate.text_sha256
        )
    inbound.receive(reply(estimate, f"APPROVE {estimate.reference}"), mailbox=SUPPORT)
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.WITHDRAWN
    assert "cannot be answered any more" in note_on(paid.ticket)


def test_a_closed_ticket_gets_no_new_estimate(paid: PaidWorld) -> None:
    actions.set_status(paid.ticket, Ticket.Status.CLOSED)
    with pytest.raises(EstimateError, match="closed"):
        draft(paid)


def test_a_reply_answers_the_estimate_it_names(paid: PaidWorld, smtp: SmtpSink) -> None:
    first = sent(paid)
    second = sent(paid, description="Also install php-intl.", amount=Decimal("35.00"))
    assert second.reference == "LS-2026-000001-E2"
    inbound.receive(reply(second, f"APPROVE {second.reference}"), mailbox=SUPPORT)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == (Estimate.State.SENT, Estimate.State.APPROVED)


def test_a_reply_naming_two_estimates_is_left_to_staff(paid: PaidWorld, smtp: SmtpSink) -> None:
    first = sent(paid)
    second = sent(paid, amount=Decimal("35.00"))
    body = f"APPROVE {first.reference}\nDECLINE {second.reference}"
    inbound.receive(reply(second, body), mailbox=SUPPORT)
    states = set(Estimate.objects.values_list("state", flat=True))
    assert states == {Estimate.State.SENT}
    assert "approves and declines" in note_on(paid.ticket)


def test_an_automatic_reply_answers_nothing(paid: PaidWorld, smtp: SmtpSink) -> None:
    estimate = sent(paid)
    raw = reply(estimate, f"APPROVE {estimate.reference}", Auto_Submitted="auto-replied")
    inbound.receive(raw, mailbox=SUPPORT)
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.SENT


def test_an_estimate_is_found_only_under_its_own_ticket(
    client: Client, paid: PaidWorld, staff_user: User
) -> None:
    estimate = draft(paid)
    other = actions.open_ticket(paid.a.customer, "Other", "x", channel="portal", at=T0)
    client.force_login(staff_user)
    url = f"/staff/tickets/{other.number}/estimates/{estimate.reference}/"
    assert client.get(url).status_code == 404


def test_the_portal_list_explains_who_may_answer(
    client: Client, paid: PaidWorld, smtp: SmtpSink
) -> None:
    pending = sent(paid)
    answered = sent(paid, amount=Decimal("35.00"))
    estimates.answer_in_portal(
        answered, paid.a.user, Answer.DECLINE, text_sha256=answered.text_sha256
    )
    client.force_login(paid.carl_user)
    page = client.get("/portal/helpdesk/estimates/").content.decode()
    assert "authorised to order paid work" in page
    waiting, earlier = page.split("Earlier estimates")
    assert pending.reference in waiting
    assert answered.reference in earlier
    client.force_login(paid.a.user)
    assert (
        "authorised to order paid work"
        not in client.get("/portal/helpdesk/estimates/").content.decode()
    )


def test_unknown_portal_actions_change_nothing(
    client: Client, paid: PaidWorld, smtp: SmtpSink
) -> None:
    estimate = sent(paid)
    client.force_login(paid.a.user)
    url = f"/portal/helpdesk/estimates/{estimate.reference}/"
    page = client.post(url, {"action": "delete"}, follow=True).content.decode()
    assert "Unknown action." in page
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.SENT


def test_a_portal_user_without_a_verified_contact_address_cannot_approve(
    paid: PaidWorld, smtp: SmtpSink
) -> None:
    estimate = sent(paid)
    stranger = User(customer=paid.a.customer, login="temp", email="temp@c90001.example")
    stranger.save()
    assert not estimates.may_approve(stranger)
    VerifiedEmail.objects.create(contact=paid.a.contact, address="temp@c90001.example")
    assert not estimates.may_approve(stranger)  # known, but not verified
    VerifiedEmail.objects.filter(address="temp@c90001.example").update(verified_at=T0)
    assert estimates.may_approve(stranger)
    estimates.answer_in_portal(estimate, stranger, Answer.APPROVE, text_sha256=estimate.text_sha256)
    estimate.refresh_from_db()
    assert estimate.decided_by_contact == paid.a.contact


# --------------------------------------------------------------------------
# The whole way, and the race


def test_the_whole_way_from_the_back_office_to_the_customers_mail_client(
    client: Client, paid: PaidWorld, smtp: SmtpSink
) -> None:
    """Staff send from the page, the real mail arrives, the customer's client
    answers it Outlook-style on top of the quoted original, and the work is billable."""
    client.force_login(paid.staff)
    base = f"/staff/tickets/{paid.ticket.number}/estimates/"
    client.post(
        base,
        {
            "description": "Install php-imagick",
            "work_type": "special_support",
            "effort_hours": "1",
            "valid_days": "7",
        },
    )
    estimate = Estimate.objects.get()
    client.post(f"{base}{estimate.reference}/", {"action": "send"})
    [mail] = smtp.received
    original = email.message_from_bytes(mail.data, policy=email.policy.default)
    assert isinstance(original, email.message.EmailMessage)
    part = original.get_body(("plain",))
    assert part is not None
    quoted = part.get_content()
    answer = (
        f"From: Alice <alice@c90001.example>\n"
        f"To: support@provider.example\n"
        f"Subject: AW: {original['Subject']}\n"
        f"Message-ID: <outlook-1@c90001.example>\n"
        f"In-Reply-To: {original['Message-ID']}\n"
        f"References: {original['Message-ID']}\n"
        f"Content-Type: text/plain; charset=utf-8\n\n"
        f"APPROVE {estimate.reference}\n\nGruß, Alice\n\n"
        f"-----Original Message-----\nFrom: support@provider.example\n\n{quoted}\n"
    ).encode()
    outcome = inbound.receive(answer, mailbox=SUPPORT)
    assert outcome.kind == "follow_up"
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.APPROVED
    assert estimate.decided_email == "alice@c90001.example"
    entry = actions.log_time(paid.ticket, paid.staff, "special_support", timedelta(minutes=50))
    assert entry.billable
    page = client.get(f"{base}{estimate.reference}/").content.decode()
    assert "outlook-1@c90001.example" in page  # the proof is on the page
    assert "Alice Contact" in page


@pytest.mark.django_db(transaction=True)
def test_a_portal_approval_and_a_mail_decline_at_once_record_one_answer(
    paid: PaidWorld, smtp: SmtpSink
) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers anyway; the race needs PostgreSQL")
    estimate = sent(paid)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def portal() -> None:
        try:
            barrier.wait()
            estimates.answer_in_portal(
                estimate, paid.a.user, Answer.APPROVE, text_sha256=estimate.text_sha256
            )
        except EstimateError:
            pass  # the mail was quicker
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    def mail() -> None:
        try:
            barrier.wait()
            inbound.receive(reply(estimate, f"DECLINE {estimate.reference}"), mailbox=SUPPORT)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=portal), threading.Thread(target=mail)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    estimate.refresh_from_db()
    assert estimate.state in {Estimate.State.APPROVED, Estimate.State.DECLINED}
    answers = Message.objects.filter(ticket=paid.ticket, internal=True)
    if estimate.state == Estimate.State.APPROVED:
        # the mail came second: its answer is kept, with a note, not recorded
        assert "cannot be answered any more" in " ".join(a.body for a in answers)
    else:
        assert estimate.decided_via == Estimate.Via.EMAIL
