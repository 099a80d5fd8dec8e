"""Inbound e-mail becomes a ticket, a follow-up or a quarantined record.

Seed 001 §4: requests arriving "per E-Mail ... werden als Support-Request im
Helpdesk-Ticketsystem dokumentiert und weiterbearbeitet". Seed 003 §1: "Bitte
verwenden Sie hierfür eine verifizierte E-Mail-Adresse." Seed 000 VIII:
changes to content and data only "if the request has been verified via the
customer portal or the e-mail address registered in the customer account";
seed 003 §7: "entweder über eine verifizierte E-Mail-Adresse an den cloudflux
Support oder per Fax".

So a ticket opened by mail is ``verified`` only when its sender is a verified
address of the customer; a known but unverified address still opens one (the
customer asked for help) but unverified; a stranger opens nothing: a provider
does not open tickets for strangers, and staff find the mail in the quarantine.

Every mail is stored raw first (:func:`store`), then processed in one
transaction (:func:`process`): a crash in between leaves a pending record that
the next delivery of the same mail, or :func:`reprocess`, finishes.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from leitstand.contracts.models import Contact, VerifiedEmail
from leitstand.helpdesk import actions, estimates
from leitstand.helpdesk.attachments import store_inbound_safely
from leitstand.helpdesk.mail import (
    MAX_ID_CHARS,
    ParsedMail,
    ParseFailure,
    find_ticket_numbers,
    parse,
)
from leitstand.helpdesk.models import AutoReply, InboundMail, Message, Ticket

log = logging.getLogger(__name__)

# A mail larger than this keeps only its header: the MTA's own size limit
# should be lower (Postfix: 10 MB by default); base64 makes a 25 MB attachment
# about 34 MB on the wire.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
AUTO_REPLY_INTERVAL = timedelta(days=1)
MAX_THREAD_IDS = 50  # a References header can be thousands of IDs long

Kind = InboundMail.Outcome


@dataclass(frozen=True)
class Mailbox:
    """Where mail comes in: our address (the sender of acknowledgements) and
    whether to acknowledge new tickets at all."""

    address: str
    auto_reply: bool = True

    @classmethod
    def default(cls) -> Mailbox:
        """From the settings ``HELPDESK_EMAIL`` and ``HELPDESK_AUTO_REPLY``."""
        return cls(
            address=str(getattr(settings, "HELPDESK_EMAIL", settings.DEFAULT_FROM_EMAIL)),
            auto_reply=bool(getattr(settings, "HELPDESK_AUTO_REPLY", True)),
        )


@dataclass(frozen=True)
class Outcome:
    """What became of one mail."""

    kind: str  # an InboundMail.Outcome value
    ticket_number: str = ""
    reason: str = ""
    mail_id: int | None = None
    duplicate: bool = False
    auto_replied: bool = False

    def line(self) -> str:
        """One line for the MTA's log: ``ticket LS-2026-000001``."""
        if self.kind == Kind.TICKET:
            text = f"ticket {self.ticket_number}"
        elif self.kind == Kind.FOLLOW_UP:
            text = f"follow-up {self.ticket_number}"
        elif self.kind == Kind.QUARANTINED:
            text = f"quarantined: {self.reason}"
            if self.ticket_number:
                text += f" ({self.ticket_number})"
        else:
            text = f"stored, not processed: {self.reason}"
        return text + (" (duplicate)" if self.duplicate else "")


def _max_bytes() -> int:
    return int(getattr(settings, "HELPDESK_MAX_MAIL_BYTES", DEFAULT_MAX_BYTES))


def _dedupe_key(parsed: ParsedMail | ParseFailure, raw: bytes) -> str:
    if isinstance(parsed, ParsedMail) and parsed.message_id:
        return "mid-" + hashlib.sha256(parsed.message_id.encode()).hexdigest()
    return "raw-" + hashlib.sha256(raw).hexdigest()


def _outcome(mail: InboundMail, *, duplicate: bool = False, replied: bool = False) -> Outcome:
    return Outcome(
        kind=mail.outcome,
        ticket_number=mail.ticket.number if mail.ticket else "",
        reason=mail.reason,
        mail_id=mail.pk,
        duplicate=duplicate,
        auto_replied=replied,
    )


def store(
    raw: bytes, *, source: str = "", at: datetime | None = None
) -> tuple[InboundMail, ParsedMail | ParseFailure, bool]:
    """Keep the mail before anything else: ``(record, parsed, created)``.

    ``created`` is False when the same mail (same Message-ID, or the same bytes
    if it has none) is already stored; nothing is stored twice.
    """
    at = at or timezone.now()
    size = len(raw)
    truncated = size > _max_bytes()
    if truncated:
        # Only the header: enough to see who sent what, too little to be a risk.
        blank = re.search(rb"\r?\n\r?\n", raw[:1_000_000])
        raw = raw[: blank.start() if blank else 65536]
    parsed = parse(raw)
    values = {
        "received_at": at,
        "source": source[:200],
        "raw": raw,
        "size": size,
        "truncated": truncated,
        "message_id": parsed.message_id if isinstance(parsed, ParsedMail) else "",
        "sender": parsed.sender if isinstance(parsed, ParsedMail) else "",
        "subject": parsed.subject if isinstance(parsed, ParsedMail) else "",
    }
    key = _dedupe_key(parsed, raw)
    try:
        with transaction.atomic():
            mail = InboundMail.objects.create(dedupe_key=key, **values)
    except IntegrityError:
        return InboundMail.objects.get(dedupe_key=key), parsed, False
    return mail, parsed, True


def receive(
    raw: bytes,
    *,
    mailbox: Mailbox | None = None,
    source: str = "",
    at: datetime | None = None,
) -> Outcome:
    """Store one mail, then make it a ticket, a follow-up or a quarantined record.

    Raises only if nothing could be stored (the database is down): the caller
    then leaves the mail where it is (IMAP) or asks the MTA to retry (exit 75).
    """
    mailbox = mailbox or Mailbox.default()
    at = at or timezone.now()
    mail, parsed, created = store(raw, source=source, at=at)
    if not created and mail.outcome != Kind.PENDING:
        return _outcome(mail, duplicate=True)
    if mail.truncated:
        parsed = _too_large(mail)
    return process(mail, parsed, mailbox=mailbox, at=at, duplicate=not created)


def _too_large(mail: InboundMail) -> ParseFailure:
    return ParseFailure(f"too large: {mail.size} bytes, the limit is {_max_bytes()} bytes")


def reprocess(mail: InboundMail, *, mailbox: Mailbox | None = None) -> Outcome:
    """Process a quarantined (or pending) mail again, e.g. after the sender's
    address was added to the customer: staff's way out of the quarantine."""
    if mail.outcome not in {Kind.QUARANTINED, Kind.PENDING}:
        return _outcome(mail, duplicate=True)
    parsed = _too_large(mail) if mail.truncated else parse(bytes(mail.raw))
    return process(mail, parsed, mailbox=mailbox or Mailbox.default(), again=True)


def process(
    mail: InboundMail,
    parsed: ParsedMail | ParseFailure,
    *,
    mailbox: Mailbox,
    at: datetime | None = None,
    duplicate: bool = False,
    again: bool = False,
) -> Outcome:
    """Decide and record what ``mail`` becomes, in one transaction; then,
    after the commit, acknowledge a new ticket if the rules allow.

    Only a pending mail is processed, or a quarantined one ``again`` (staff
    asked): a second delivery racing the first finds it done and changes nothing.
    """
    allowed = {Kind.PENDING, Kind.QUARANTINED} if again else {Kind.PENDING}
    at = at or timezone.now()
    try:
        with transaction.atomic():
            locked = InboundMail.objects.select_for_update().get(pk=mail.pk)
            if locked.outcome not in allowed:
                # Another delivery was quicker. ``duplicate`` keeps meaning "this
                # copy was stored before", so the first copy reports no duplicate
                # even when a racing redelivery did the processing.
                return _outcome(locked, duplicate=duplicate or again)
            kind, ticket, reason = _decide(parsed, at)
            locked.outcome, locked.ticket, locked.reason = kind, ticket, reason[:300]
            locked.processed_at = at
            locked.save(update_fields=["outcome", "ticket", "reason", "processed_at"])
    except Exception as exc:
        # A bug must not make the MTA retry for days or the IMAP poller loop:
        # the raw mail is stored; staff see the error in the quarantine.
        log.exception("inbound mail %s could not be processed", mail.pk)
        InboundMail.objects.filter(pk=mail.pk).update(
            outcome=Kind.QUARANTINED,
            reason=f"processing failed: {type(exc).__name__}: {exc}"[:300],
            processed_at=at,
        )
        mail.refresh_from_db()
        return _outcome(mail, duplicate=duplicate)
    if kind in {Kind.TICKET, Kind.FOLLOW_UP}:
        # After the commit: the files are copies; the raw mail keeps the originals.
        store_inbound_safely(locked)
    replied = False
    if kind == Kind.TICKET and ticket is not None and isinstance(parsed, ParsedMail):
        try:
            replied = auto_reply(ticket, parsed, mailbox=mailbox, at=at)
        except Exception:
            # The ticket is committed; an unreachable mail server costs only the
            # acknowledgement, never the mail.
            log.exception("acknowledgement for %s not sent", ticket.number)
    return _outcome(locked, duplicate=duplicate, replied=replied)


def _decide(parsed: ParsedMail | ParseFailure, at: datetime) -> tuple[str, Ticket | None, str]:
    """The outcome, its ticket and the reason; writes the ticket or the follow-up."""
    if isinstance(parsed, ParseFailure):
        return Kind.QUARANTINED, None, parsed.reason
    addresses = list(
        VerifiedEmail.objects.filter(address=parsed.sender).select_related("contact__customer")
        if parsed.sender
        else []
    )
    customer_ids = {a.contact.customer_id for a in addresses}
    ticket, how = _thread(parsed, customer_ids)
    if parsed.bounce:
        # A bounce says an address of ours failed, not what the customer wants.
        return Kind.QUARANTINED, ticket, parsed.automatic
    if ticket is not None:
        contact = next(
            (a.contact for a in addresses if a.contact.customer_id == ticket.customer_id), None
        )
        message = _follow_up(ticket, parsed, contact, at)
        # A reply carrying an estimate's reference may approve or decline it.
        estimates.answer_by_mail(
            ticket, parsed, message, authenticated=authenticated(parsed), at=at
        )
        return Kind.FOLLOW_UP, ticket, how
    if parsed.automatic:
        return Kind.QUARANTINED, None, f"automatic mail ({parsed.automatic}), not part of a ticket"
    if not parsed.sender:
        return Kind.QUARANTINED, None, "no sender address"
    verified = [a for a in addresses if a.is_verified]
    candidates = verified or addresses
    if not candidates:
        return Kind.QUARANTINED, None, "unknown sender"
    if len({a.contact.customer_id for a in candidates}) > 1:
        return Kind.QUARANTINED, None, "the sender's address belongs to several customers"
    contact = candidates[0].contact
    forged = bool(verified) and not authenticated(parsed)
    ticket = actions.open_ticket(
        contact.customer,
        parsed.subject or "(no subject)",
        _text(parsed),
        channel=Ticket.Channel.EMAIL,
        requester=contact,
        requester_email=parsed.sender,
        verified=bool(verified) and not forged,
        at=at,
    )
    ticket.messages.update(message_id=parsed.message_id)
    if forged:
        return Kind.TICKET, ticket, "verified address, but the sender is not authenticated (DMARC)"
    return Kind.TICKET, ticket, "verified sender" if verified else "sender known, not verified"


def authenticated(parsed: ParsedMail) -> bool:
    """Whether our own MTA vouches for the From address (DMARC pass).

    A From header is easily forged, and seed 000 VIII lets a request from "the
    e-mail address registered in the customer account" delete data. With the
    setting ``HELPDESK_AUTHSERV_ID`` (our MTA's authserv-id, e.g. the OpenDMARC
    or rspamd host name), only a mail whose topmost Authentication-Results of
    that server says ``dmarc=pass`` counts as verified; RFC 8601 §5 has the MTA
    remove results that claim its id from outside. Without the setting, the
    address alone decides (the MTA is then expected to reject DMARC failures).
    """
    authserv_id = str(getattr(settings, "HELPDESK_AUTHSERV_ID", "")).lower()
    if not authserv_id:
        return True
    ours = [result for server, result in parsed.dmarc if server == authserv_id]
    return bool(ours) and ours[0] == "pass"


def _thread(parsed: ParsedMail, customer_ids: set[int]) -> tuple[Ticket | None, str]:
    """The ticket this mail continues, and how we know.

    A Message-ID of ours in In-Reply-To/References is proof enough (only a
    recipient of the thread knows it). A ticket number in the subject is
    guessable, so it counts only for a sender known at that ticket's customer.
    """
    ids = [i for i in parsed.thread_ids[:MAX_THREAD_IDS] if i]
    if ids:
        message = (
            Message.objects.filter(message_id__in=ids)
            .select_related("ticket")
            .order_by("-pk")
            .first()
        )
        if message is not None:
            return message.ticket, "In-Reply-To/References"
        ack = AutoReply.objects.filter(message_id__in=ids).select_related("ticket").first()
        if ack is not None:
            return ack.ticket, "In-Reply-To/References"
    numbers = find_ticket_numbers(parsed.subject, str(settings.TICKET_NUMBER_FORMAT))
    if numbers and customer_ids:
        ticket = (
            Ticket.objects.filter(number__in=numbers, customer_id__in=customer_ids)
            .order_by("-created_at")
            .first()
        )
        if ticket is not None:
            return ticket, "ticket number in the subject"
    return None, ""


def _text(parsed: ParsedMail) -> str:
    """The message text, with the attachments listed (their content stays in the raw mail)."""
    if not parsed.attachments:
        return parsed.body or "(no text)"
    files = "\n".join(
        f"- {a.filename} ({a.content_type}, {a.size} bytes)" for a in parsed.attachments
    )
    label = _("Attachments")  # outside the f-string, where xgettext finds it
    return f"{parsed.body}\n\n[{label}]\n{files}".strip()


def _follow_up(
    ticket: Ticket, parsed: ParsedMail, contact: Contact | None, at: datetime
) -> Message:
    message = Message.objects.create(
        ticket=ticket,
        created_at=at,
        author_contact=contact,
        author_email=parsed.sender,
        body=_text(parsed),
        channel=Ticket.Channel.EMAIL,
        message_id=parsed.message_id,
    )
    # The customer answered: the wait for the customer ends and a resolved
    # ticket opens again. A vacation notice is no answer, and a closed ticket
    # stays closed (staff see the message and decide).
    if not parsed.automatic and ticket.status in {Ticket.Status.WAITING, Ticket.Status.RESOLVED}:
        actions.set_status(ticket, Ticket.Status.OPEN, at=at)
    return message


def auto_reply(ticket: Ticket, parsed: ParsedMail, *, mailbox: Mailbox, at: datetime) -> bool:
    """Acknowledge a new ticket by mail, with its number; True if sent.

    Seed 002 §1.6: "Upon submission of a request, the Client will receive a
    ticket number for reference." RFC 3834: never to automatic mail, never to a
    null or our own address, at most once per sender and ticket a day, and
    marked ``Auto-Submitted: auto-replied`` so that the other side's responder
    stays quiet too: two helpdesks acknowledging each other stop after one round.
    """
    sender = parsed.sender
    if not mailbox.auto_reply or parsed.automatic or parsed.no_auto_reply or not sender:
        return False
    if sender == mailbox.address.lower():
        return False
    domain = mailbox.address.rpartition("@")[2] or "localhost"
    message_id = make_msgid(domain=domain)[:MAX_ID_CHARS]
    with transaction.atomic():
        Ticket.objects.select_for_update().filter(pk=ticket.pk).first()  # serialises the check
        if AutoReply.objects.filter(
            sender=sender, ticket=ticket, sent_at__gt=at - AUTO_REPLY_INTERVAL
        ).exists():
            return False
        AutoReply.objects.create(sender=sender, ticket=ticket, sent_at=at, message_id=message_id)
        with translation.override(ticket.customer.language):
            body = _(
                "Thank you for your message. We have registered it as ticket %(number)s.\n"
                "Please keep the ticket number in the subject when you write to us about it."
            ) % {"number": ticket.number}
            if not ticket.verified:
                body += "\n\n" + _(
                    "Your address is not a verified address of your customer account. Changes "
                    "to content and data are only carried out on requests through the customer "
                    "portal or from a verified e-mail address."
                )
        references = " ".join([*parsed.references[-10:], parsed.message_id]).strip()
        # X-Auto-Response-Suppress: Exchange's responders ignore Auto-Submitted.
        headers = {
            "Auto-Submitted": "auto-replied",
            "X-Auto-Response-Suppress": "All",
            "Message-ID": message_id,
        }
        if parsed.message_id:
            headers |= {"In-Reply-To": parsed.message_id, "References": references}
        # Sent inside the transaction: if the mail server refuses, no log entry
        # claims an acknowledgement that never left.
        EmailMessage(
            subject=f"[{ticket.number}] {ticket.subject}"[:300],
            body=body,
            from_email=mailbox.address,
            to=[sender],
            headers=headers,
        ).send()
    return True
