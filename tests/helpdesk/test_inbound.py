"""Inbound mail: verification, threading, duplicates, quarantine and reprocessing,
and the acknowledgement rules (RFC 3834)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail as outbox
from django.db import connection
from django.urls import reverse
from tests.helpdesk.conftest import SUPPORT, T0, MailWorld

from leitstand.accounts.models import User
from leitstand.contracts.models import VerifiedEmail
from leitstand.helpdesk import actions, inbound
from leitstand.helpdesk.inbound import Mailbox
from leitstand.helpdesk.mail import parse
from leitstand.helpdesk.models import AutoReply, InboundMail, Ticket

pytestmark = pytest.mark.django_db


def raw(sender: str = "alice@c90001.example", subject: str = "Disk full", **headers: str) -> bytes:
    lines = [f"From: {sender}", f"Subject: {subject}"]
    headers.setdefault("Message_ID", f"<{subject.replace(' ', '')}-{sender}@x.example>")
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\n".join(lines) + "\n\nPlease have a look.\n").encode()


def test_a_verified_address_opens_a_verified_ticket_and_gets_its_number(world: MailWorld) -> None:
    outcome = inbound.receive(raw(), mailbox=SUPPORT, at=T0)
    assert (outcome.kind, outcome.reason, outcome.auto_replied) == (
        "ticket",
        "verified sender",
        True,
    )
    ticket = Ticket.objects.get(number=outcome.ticket_number)
    assert (ticket.customer, ticket.requester, ticket.verified, ticket.channel) == (
        world.a.customer,
        world.a.contact,
        True,
        "email",
    )
    assert ticket.messages.get().message_id == "<Diskfull-alice@c90001.example@x.example>"
    [ack] = outbox.outbox
    assert ack.to == ["alice@c90001.example"]
    assert ack.from_email == "support@provider.example"
    assert ack.subject == f"[{ticket.number}] Disk full"
    assert ticket.number in ack.body
    assert ack.extra_headers["Auto-Submitted"] == "auto-replied"
    assert ack.extra_headers["In-Reply-To"] == "<Diskfull-alice@c90001.example@x.example>"
    assert AutoReply.objects.get().message_id == ack.extra_headers["Message-ID"]
    assert outcome.line() == f"ticket {ticket.number}"


def test_a_known_unverified_address_opens_an_unverified_ticket(world: MailWorld) -> None:
    world.a.customer.language = "en"  # the acknowledgement speaks the customer's language
    world.a.customer.save()
    outcome = inbound.receive(raw("Carol <CAROL@c90001.example>"), mailbox=SUPPORT, at=T0)
    ticket = Ticket.objects.get(number=outcome.ticket_number)
    assert (outcome.reason, ticket.verified, ticket.customer) == (
        "sender known, not verified",
        False,
        world.a.customer,
    )
    # Seed 003 §1: "Bitte verwenden Sie hierfür eine verifizierte E-Mail-Adresse."
    assert "verified e-mail address" in outbox.outbox[0].body


def test_a_stranger_opens_nothing_and_waits_in_the_quarantine(world: MailWorld) -> None:
    outcome = inbound.receive(raw("eve@stranger.example"), mailbox=SUPPORT, at=T0)
    assert (outcome.kind, outcome.line()) == ("quarantined", "quarantined: unknown sender")
    assert Ticket.objects.count() == 1
    assert outbox.outbox == []  # no backscatter to strangers
    # Staff add Eve to customer A; the kept mail becomes a ticket.
    VerifiedEmail.objects.create(contact=world.a.contact, address="eve@stranger.example")
    again = inbound.reprocess(InboundMail.objects.get(pk=outcome.mail_id), mailbox=SUPPORT)
    assert (again.kind, again.reason) == ("ticket", "sender known, not verified")
    assert inbound.reprocess(InboundMail.objects.get(pk=outcome.mail_id)).duplicate


def test_an_address_of_two_customers_is_not_guessed(world: MailWorld) -> None:
    VerifiedEmail.objects.create(
        contact=world.b.contact, address="alice@c90001.example", verified_at=T0
    )
    outcome = inbound.receive(raw(), mailbox=SUPPORT, at=T0)
    assert outcome.reason == "the sender's address belongs to several customers"


def test_the_same_mail_twice_is_stored_and_answered_once(world: MailWorld) -> None:
    first = inbound.receive(raw(), mailbox=SUPPORT, at=T0)
    second = inbound.receive(raw(), mailbox=SUPPORT, at=T0 + timedelta(minutes=5))
    assert (second.kind, second.ticket_number, second.duplicate) == (
        "ticket",
        first.ticket_number,
        True,
    )
    assert second.line() == f"ticket {first.ticket_number} (duplicate)"
    assert (InboundMail.objects.count(), Ticket.objects.count(), len(outbox.outbox)) == (1, 2, 1)


def test_a_mail_stored_before_a_crash_is_finished_by_the_next_delivery(world: MailWorld) -> None:
    mail, _parsed, created = inbound.store(raw(), at=T0)  # the process died here
    assert (created, mail.outcome) == (True, "pending")
    outcome = inbound.receive(raw(), mailbox=SUPPORT, at=T0)
    assert (outcome.kind, outcome.mail_id, outcome.duplicate) == ("ticket", mail.pk, True)


def test_a_failure_while_processing_quarantines_with_the_error(
    world: MailWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(inbound, "_decide", broken)
    outcome = inbound.receive(raw(), mailbox=SUPPORT, at=T0)
    assert (outcome.kind, outcome.reason) == ("quarantined", "processing failed: RuntimeError: bug")
    assert Ticket.objects.count() == 1  # the transaction rolled back
    monkeypatch.undo()
    assert inbound.reprocess(InboundMail.objects.get()).kind == "ticket"


def test_a_refusing_mail_server_costs_only_the_acknowledgement(
    world: MailWorld,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    outcome = inbound.receive(raw(), mailbox=SUPPORT, at=T0)
    assert (outcome.kind, outcome.auto_replied) == ("ticket", False)
    assert not AutoReply.objects.exists()


@pytest.mark.parametrize(
    ("headers", "how"),
    [
        ({"In_Reply_To": "<root-1@c90001.example>"}, "In-Reply-To/References"),
        ({"References": "<a@x> <root-1@c90001.example> <b@x>"}, "In-Reply-To/References"),
        ({"Subject": "Re: [LS-2026-000001] Server down"}, "ticket number in the subject"),
    ],
)
def test_a_reply_becomes_a_follow_up(world: MailWorld, headers: dict[str, str], how: str) -> None:
    subject = headers.pop("Subject", "Re: something")
    outcome = inbound.receive(raw(subject=subject, **headers), mailbox=SUPPORT, at=T0)
    assert (outcome.kind, outcome.ticket_number, outcome.reason) == (
        "follow_up",
        "LS-2026-000001",
        how,
    )
    message = world.ticket.messages.order_by("pk").last()
    assert message is not None
    assert (message.author_contact, message.channel) == (world.a.contact, "email")
    assert outbox.outbox == []  # follow-ups are not acknowledged


def test_a_reply_to_our_acknowledgement_threads(world: MailWorld) -> None:
    first = inbound.receive(raw(), mailbox=SUPPORT, at=T0)
    ack_id = outbox.outbox[0].extra_headers["Message-ID"]
    reply = inbound.receive(raw(subject="Re: hm", In_Reply_To=ack_id), mailbox=SUPPORT, at=T0)
    assert (reply.kind, reply.ticket_number) == ("follow_up", first.ticket_number)


def test_the_customer_answering_ends_the_wait_but_a_vacation_notice_does_not(
    world: MailWorld,
) -> None:
    actions.set_status(world.ticket, Ticket.Status.WAITING, at=T0)
    refs = {"In_Reply_To": "<root-1@c90001.example>"}
    inbound.receive(raw(subject="Away", Auto_Submitted="auto-replied", **refs), mailbox=SUPPORT)
    world.ticket.refresh_from_db()
    assert world.ticket.status == "waiting"
    inbound.receive(raw(subject="Here it is", **refs), mailbox=SUPPORT)
    world.ticket.refresh_from_db()
    assert world.ticket.status == "open"


def test_a_bounce_of_our_mail_goes_to_the_quarantine_with_its_ticket(world: MailWorld) -> None:
    bounce = raw(
        "MAILER-DAEMON@mx.example",
        "Undelivered Mail Returned to Sender",
        In_Reply_To="<root-1@c90001.example>",
    )
    outcome = inbound.receive(bounce, mailbox=SUPPORT, at=T0)
    assert outcome.line() == "quarantined: bounce (from the mailer daemon) (LS-2026-000001)"


@pytest.mark.parametrize(
    ("mailbox", "headers"),
    [
        (Mailbox("support@provider.example", auto_reply=False), {}),
        (SUPPORT, {"X_Auto_Response_Suppress": "All"}),
        (Mailbox("alice@c90001.example"), {}),  # never to ourselves
    ],
)
def test_no_acknowledgement_when_it_is_off_suppressed_or_to_ourselves(
    world: MailWorld, mailbox: Mailbox, headers: dict[str, str]
) -> None:
    outcome = inbound.receive(raw(**headers), mailbox=mailbox, at=T0)
    assert (outcome.kind, outcome.auto_replied, outbox.outbox) == ("ticket", False, [])


def test_at_most_one_acknowledgement_per_sender_and_ticket_a_day(world: MailWorld) -> None:
    parsed = parse(raw())
    assert not isinstance(parsed, inbound.ParseFailure)
    send = inbound.auto_reply
    assert send(world.ticket, parsed, mailbox=SUPPORT, at=T0)
    assert not send(world.ticket, parsed, mailbox=SUPPORT, at=T0 + timedelta(hours=23))
    assert send(world.ticket, parsed, mailbox=SUPPORT, at=T0 + timedelta(hours=24, seconds=1))
    assert len(outbox.outbox) == 2


def test_staff_process_the_quarantine_again_from_the_admin(world: MailWorld, client) -> None:  # type: ignore[no-untyped-def]
    outcome = inbound.receive(raw("eve@stranger.example"), mailbox=SUPPORT, at=T0)
    VerifiedEmail.objects.create(contact=world.a.contact, address="eve@stranger.example")
    admin = User.objects.create_superuser("root", "root@provider.example", "x")
    client.force_login(admin)
    response = client.post(
        reverse("admin:helpdesk_inboundmail_changelist"),
        {"action": "process_again", "_selected_action": [outcome.mail_id]},
        follow=True,
    )
    assert "1 mail left the quarantine." in response.content.decode()
    assert InboundMail.objects.get().outcome == "ticket"


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_mail_make_one_ticket(world: MailWorld) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers anyway; the race needs PostgreSQL")
    outcomes: list[inbound.Outcome] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            outcomes.append(inbound.receive(raw(), mailbox=SUPPORT, at=T0))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {(o.kind, o.ticket_number) for o in outcomes} == {("ticket", "LS-2026-000002")}
    assert sorted(o.duplicate for o in outcomes) == [False, True, True, True]
    assert (InboundMail.objects.count(), Ticket.objects.count(), len(outbox.outbox)) == (1, 2, 1)


@pytest.mark.parametrize(
    ("results", "verified"),
    [
        ([], False),  # our MTA did not judge: not proven
        (["mx.provider.example; spf=pass; dkim=pass; dmarc=pass header.from=c90001.example"], True),
        (["MX.provider.example 1; dmarc=fail (p=none) header.from=c90001.example"], False),
        # A result claiming our server's name below the real one is ignored (RFC 8601 §5).
        (["mx.provider.example; dmarc=fail", "mx.provider.example; dmarc=pass"], False),
        (["other.example; dmarc=pass"], False),
    ],
)
def test_with_an_authserv_id_a_verified_address_must_pass_dmarc(
    world: MailWorld,
    settings,  # type: ignore[no-untyped-def]
    results: list[str],
    verified: bool,
) -> None:
    settings.HELPDESK_AUTHSERV_ID = "mx.provider.example"
    headers = "".join(f"Authentication-Results: {r}\n" for r in results).encode()
    outcome = inbound.receive(headers + raw(), mailbox=SUPPORT, at=T0)
    ticket = Ticket.objects.get(number=outcome.ticket_number)
    assert ticket.verified is verified
    assert outcome.reason == (
        "verified sender"
        if verified
        else "verified address, but the sender is not authenticated (DMARC)"
    )
