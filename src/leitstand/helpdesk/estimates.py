"""Paid work: who may order it, estimates, and the customer's approval as proof.

Seed 001 §4: "Eröffnet der Kunde einen Support-Request über das
Helpdesk-Ticketsystem, per E-Mail oder telefonisch, so gilt das implizit als
erteilter Auftrag ... Der Kunde ist angehalten, die weisungsberechtigten
Mitarbeiter zu benennen und so den Kreis der zur Beauftragung von
Zusatzleistungen berechtigten Personen zu kontrollieren und zu begrenzen."
Seed 003 §1: "Für spezielle Supportanfragen, die nicht in den
Standardleistungen enthalten sind, wird nach Rücksprache mit dem Kunden ein
Stundensatz von 35,00 EUR netto je angefangener Viertelstunde berechnet".
Seed 002 §1.6: "A Webosa representative will then indicate the proposed
actions and any associated costs." Seed 000 VIII: requests are verified "via
the customer portal or the e-mail address registered in the customer account".

So, per contract (the plan's ``request_is_order`` and
``paid_work_requires_approval``):

- where the request is the order (seed 001 §4), a verified request of a
  contact authorised to order paid work is enough;
- where paid work needs prior agreement, staff send an :class:`Estimate` and an
  authorised contact approves it, in the portal or by replying from a verified
  address with the estimate's reference;
- work on an incorrect incident report is chargeable anyway (seed 002 §1.5:
  "Webosa reserves the right to charge").

Billable time without that is still recorded (nothing is lost) but as not
billable: the customer is never charged for work nobody authorised to order
it agreed to. :func:`approval_missing` says why, for the back office.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from email.utils import make_msgid
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from leitstand.contracts.models import Contact, Contract, Customer, VerifiedEmail
from leitstand.core.periodic import periodic
from leitstand.helpdesk.models import Estimate, InboundMail, Message, Ticket

MAX_VALIDITY = timedelta(days=365)
CURRENCY = "EUR"


class EstimateError(ValueError):
    """A request about an estimate that cannot be carried out; the text is for the user."""


# --------------------------------------------------------------------------
# Pure rules


class Order(StrEnum):
    """Whether billable work on a ticket is ordered, and if not, what is missing."""

    ORDERED_BY_REQUEST = "ordered_by_request"  # seed 001 §4
    APPROVED = "approved"  # an estimate was approved
    CHARGEABLE = "chargeable"  # incorrect incident report, seed 002 §1.5
    NOT_REQUIRED = "not_required"  # the contract asks for neither
    NEEDS_AUTHORISED_REQUEST = "needs_authorised_request"
    NEEDS_APPROVAL = "needs_approval"

    @property
    def ok(self) -> bool:
        return self in {
            Order.ORDERED_BY_REQUEST,
            Order.APPROVED,
            Order.CHARGEABLE,
            Order.NOT_REQUIRED,
        }


def order_state(
    *,
    request_is_order: bool,
    requires_approval: bool,
    authorised_request: bool,
    approved_estimate: bool,
    out_of_scope: bool,
) -> Order:
    """Whether billable work is ordered (see the module docstring).

    ``authorised_request``: the ticket is a verified request of a contact who
    may order paid work.
    """
    if approved_estimate:
        return Order.APPROVED
    if out_of_scope:
        return Order.CHARGEABLE
    if request_is_order:
        return Order.ORDERED_BY_REQUEST if authorised_request else Order.NEEDS_AUTHORISED_REQUEST
    if requires_approval:
        return Order.NEEDS_APPROVAL
    return Order.NOT_REQUIRED


class Answer(StrEnum):
    """What a reply to an estimate mail says."""

    APPROVE = "approve"
    DECLINE = "decline"
    AMBIGUOUS = "ambiguous"


APPROVE_WORDS = ("approve", "approved", "accept", "accepted", "freigabe", "freigeben", "genehmigt")
DECLINE_WORDS = ("decline", "declined", "reject", "rejected", "ablehnen", "abgelehnt", "ablehnung")
# Where the quoted original starts in clients that do not prefix lines with ">".
_QUOTE_START = re.compile(
    r"^\s*(?:-{2,}\s*(?:original message|ursprüngliche nachricht|forwarded message)"
    r"|(?:on|am)\s.+\b(?:wrote|schrieb)\b.*:\s*$"
    r"|(?:from|von)\s*:\s"
    r"|_{10,})",
    re.IGNORECASE,
)


def new_text(body: str) -> str:
    """The part of a reply its author wrote: up to the quoted original, without ``>`` lines."""
    lines = []
    for line in body.splitlines():
        if _QUOTE_START.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        lines.append(line)
    return "\n".join(lines)


def mail_answer(body: str, reference: str) -> Answer | None:
    """The answer a reply gives to estimate ``reference``, or None if it gives none.

    Only a line of the reply's own text counts that starts with a keyword
    followed by the reference (``APPROVE LS-2026-000001-E1``), as the estimate
    mail asks; the quoted original, which lists both keywords, does not. A
    reply naming both answers is :attr:`Answer.AMBIGUOUS`: staff must ask.
    """
    words = "|".join(APPROVE_WORDS + DECLINE_WORDS)
    pattern = re.compile(
        rf"^\s*\*?\s*({words})\b[\s:*]*{re.escape(reference)}(?![\w-])", re.IGNORECASE
    )
    found = set()
    for line in new_text(body).splitlines():
        match = pattern.match(line)
        if match:
            word = match.group(1).lower()
            found.add(Answer.APPROVE if word in APPROVE_WORDS else Answer.DECLINE)
    if len(found) > 1:
        return Answer.AMBIGUOUS
    return found.pop() if found else None


def digest(text: str) -> str:
    """SHA-256 of the estimate text: the portal form carries it back, the record keeps it."""
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------
# Who may order


def authorised_contacts(customer: Customer) -> list[tuple[Contact, list[str]]]:
    """Contacts who may order paid work, each with its verified addresses."""
    out = []
    contacts = customer.contacts.filter(may_order_paid_work=True).prefetch_related(
        "verified_emails"
    )
    for contact in contacts.order_by("name", "pk"):
        addresses = sorted(e.address for e in contact.verified_emails.all() if e.is_verified)
        out.append((contact, addresses))
    return out


def contact_by_address(customer_id: int, address: str) -> Contact | None:
    """The customer's contact with this verified address, preferring one who may order."""
    matches = VerifiedEmail.objects.filter(
        contact__customer_id=customer_id,
        address=address.strip().lower(),
        verified_at__isnull=False,
    ).select_related("contact")
    contacts = sorted({m.contact for m in matches}, key=lambda c: (not c.may_order_paid_work, c.pk))
    return contacts[0] if contacts else None


def portal_contact(user: Any) -> Contact | None:
    """The contact a portal user is: the one of its customer with the user's
    e-mail address as a verified address (users and contacts are linked by it)."""
    customer_id = getattr(user, "customer_id", None)
    email = getattr(user, "email", "")
    if customer_id is None or not email:
        return None
    return contact_by_address(customer_id, email)


def may_approve(user: Any) -> bool:
    """Whether a portal user may approve or decline estimates of its customer."""
    contact = portal_contact(user)
    return contact is not None and contact.may_order_paid_work


def requester_contact(ticket: Ticket) -> Contact | None:
    """The contact who asked: the ticket's requester, else its requester's verified address."""
    if ticket.requester is not None:
        return ticket.requester
    if ticket.requester_email:
        return contact_by_address(ticket.customer_id, ticket.requester_email)
    return None


def order_of(ticket: Ticket, work_type: str | None = None) -> Order:
    """Whether billable work (of ``work_type``) on the ticket is ordered."""
    contract: Contract | None = ticket.contract
    plan = contract.plan if contract is not None else None
    approved = ticket.estimates.filter(state=Estimate.State.APPROVED)
    if work_type is not None:
        approved = approved.filter(Q(work_type=work_type) | Q(work_type=""))
    requester = requester_contact(ticket)
    return order_state(
        request_is_order=bool(plan and plan.request_is_order),
        requires_approval=bool(plan and plan.paid_work_requires_approval),
        authorised_request=ticket.verified
        and requester is not None
        and requester.may_order_paid_work,
        approved_estimate=approved.exists(),
        out_of_scope=ticket.out_of_scope,
    )


def approval_missing(ticket: Ticket, work_type: str | None = None) -> str | None:
    """Why billable time on the ticket would be recorded as not billable, or None."""
    order = order_of(ticket, work_type)
    if order == Order.NEEDS_APPROVAL:
        return _(
            "The contract requires prior agreement for paid work: time is recorded as not "
            "billable until the customer approves an estimate."
        )
    if order == Order.NEEDS_AUTHORISED_REQUEST:
        return _(
            "The request does not come verified from a contact who may order paid work: time "
            "is recorded as not billable until such a contact approves an estimate."
        )
    return None


# --------------------------------------------------------------------------
# Staff: create, send, withdraw


def suggested_amount(ticket: Ticket, work_type: str, effort: timedelta) -> Decimal | None:
    """The price of ``effort`` on the contract's rate card, if it prices the work type."""
    from leitstand.billing.charges import UnknownWorkType, charge  # noqa: PLC0415
    from leitstand.billing.models import RateCard  # noqa: PLC0415

    if ticket.contract is None:
        return None
    card = ticket.contract.policy("rate_card")
    if not isinstance(card, RateCard):
        return None
    try:
        return charge(card.to_rule(), work_type, effort)
    except UnknownWorkType:
        return None


def create(
    ticket: Ticket,
    user: Any,
    *,
    description: str,
    work_type: str,
    effort: timedelta,
    amount: Decimal | None,
    valid_until: datetime,
    at: datetime | None = None,
) -> Estimate:
    """A draft estimate; the amount defaults to the rate card's price of the effort."""
    at = at or timezone.now()
    description = description.strip()
    if not description:
        raise EstimateError(_("Describe the work to be done."))
    if effort <= timedelta(0):
        raise EstimateError(_("The expected effort must be positive."))
    if amount is None:
        amount = suggested_amount(ticket, work_type, effort)
        if amount is None:
            raise EstimateError(
                _("The contract's rate card does not price this work type: enter the amount.")
            )
    if not isinstance(amount, Decimal) or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise EstimateError(_("The amount must be a non-negative sum in euros and cents."))
    if timezone.is_naive(valid_until):
        raise ValueError("valid_until must be aware")
    if not at < valid_until <= at + MAX_VALIDITY:
        raise EstimateError(_("The estimate must be valid for a time in the future, up to a year."))
    if not ticket.is_open:
        raise EstimateError(_("The ticket is closed."))
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        count = Estimate.objects.filter(ticket=locked).count()
        return Estimate.objects.create(
            ticket=locked,
            reference=f"{locked.number}-E{count + 1}",
            description=description,
            work_type=work_type.strip()[:50],
            effort=effort,
            amount=amount,
            currency=CURRENCY,
            valid_until=valid_until,
            created_by=user,
            created_at=at,
        )


def _money(amount: Decimal) -> str:
    return formats.number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)


def _hours(effort: timedelta) -> str:
    hours = Decimal(int(effort.total_seconds())) / 3600
    return formats.number_format(hours.quantize(Decimal("0.01")), decimal_pos=2, use_l10n=True)


def render_text(estimate: Estimate) -> str:
    """The estimate as the customer reads and approves it, in the customer's language."""
    ticket = estimate.ticket
    zone = timezone.get_default_timezone()
    try:
        from zoneinfo import ZoneInfo  # noqa: PLC0415

        zone = ZoneInfo(ticket.customer.timezone)
    except (KeyError, ValueError):
        pass
    with translation.override(ticket.customer.language):
        valid = formats.date_format(estimate.valid_until.astimezone(zone), "DATETIME_FORMAT")
        values = {
            "reference": estimate.reference,
            "number": ticket.number,
            "subject": ticket.subject,
            "customer": f"{ticket.customer.number} {ticket.customer.name}",
            "work_type": estimate.work_type,
            "hours": _hours(estimate.effort),
            "amount": _money(estimate.amount),
            "currency": estimate.currency,
            "valid": f"{valid} ({zone})",
        }
        return (
            _("Estimate %(reference)s for ticket %(number)s: %(subject)s") % values
            + "\n"
            + _("Customer: %(customer)s") % values
            + "\n\n"
            + estimate.description
            + "\n\n"
            + _("Work type: %(work_type)s") % values
            + "\n"
            + _("Expected effort: %(hours)s hours") % values
            + "\n"
            + _("Expected amount: %(amount)s %(currency)s net, plus VAT") % values
            + "\n"
            + _("Billed by the actual time spent at the contract's rates.")
            + "\n"
            + _("Valid until: %(valid)s") % values
        )


def _instructions(estimate: Estimate) -> str:
    with translation.override(estimate.ticket.customer.language):
        reference = estimate.reference
        return "\n".join(
            [
                _(
                    "To approve, reply from your verified address with this line at the top of "
                    "your message, or approve in the customer portal:"
                ),
                "",
                f"    APPROVE {reference}",
                "",
                _("To decline, reply with:"),
                "",
                f"    DECLINE {reference}",
                "",
                _(
                    "Only persons your company named as authorised to order paid work can "
                    "approve an estimate."
                ),
            ]
        )


def send(estimate: Estimate, user: Any, *, at: datetime | None = None) -> Estimate:
    """Freeze the text, post it on the ticket and mail it to every contact who may
    order paid work (at their verified addresses).

    The mail leaves inside the transaction, as the acknowledgements do: if the
    mail server refuses, the estimate stays a draft and staff see the error.
    """
    from leitstand.helpdesk import actions  # noqa: PLC0415
    from leitstand.helpdesk.inbound import Mailbox  # noqa: PLC0415

    at = at or timezone.now()
    mailbox = Mailbox.default()
    with transaction.atomic():
        locked = (
            Estimate.objects.select_for_update()
            .select_related("ticket__customer")
            .get(pk=estimate.pk)
        )
        if locked.state != Estimate.State.DRAFT:
            raise EstimateError(_("Only a draft can be sent."))
        if locked.valid_until <= at:
            raise EstimateError(_("The estimate's validity has already ended."))
        recipients = [
            a
            for _contact, addresses in authorised_contacts(locked.ticket.customer)
            for a in addresses
        ]
        if not recipients:
            raise EstimateError(
                _(
                    "The customer has no contact who may order paid work with a verified "
                    "address: nobody could approve the estimate."
                )
            )
        text = render_text(locked)
        body = text + "\n\n" + _instructions(locked)
        message = actions.reply(locked.ticket, user, body, at=at)
        domain = mailbox.address.rpartition("@")[2] or "localhost"
        message_id = make_msgid(domain=domain)
        Message.objects.filter(pk=message.pk).update(message_id=message_id)
        locked.state = Estimate.State.SENT
        locked.text, locked.text_sha256 = text, digest(text)
        locked.sent_at, locked.sent_to, locked.sent_message = at, recipients, message
        locked.save()
        with translation.override(locked.ticket.customer.language):
            subject = _("[%(number)s] Estimate %(reference)s: %(subject)s") % {
                "number": locked.ticket.number,
                "reference": locked.reference,
                "subject": locked.ticket.subject,
            }
        EmailMessage(
            subject=subject[:300],
            body=body,
            from_email=mailbox.address,
            to=recipients,
            headers={"Message-ID": message_id, "Auto-Submitted": "auto-generated"},
        ).send()
    estimate.refresh_from_db()
    return estimate


def withdraw(estimate: Estimate, *, at: datetime | None = None) -> Estimate:
    """Take back a draft or an unanswered estimate; an answered one stays as it is."""
    at = at or timezone.now()
    with transaction.atomic():
        locked = Estimate.objects.select_for_update().get(pk=estimate.pk)
        if locked.state not in {Estimate.State.DRAFT, Estimate.State.SENT}:
            raise EstimateError(_("The estimate was already answered or has expired."))
        locked.state, locked.withdrawn_at = Estimate.State.WITHDRAWN, at
        locked.save(update_fields=["state", "withdrawn_at"])
    estimate.refresh_from_db()
    return estimate


@periodic(every=300.0)
def expire_due() -> int:
    """Step: estimates whose validity ended unanswered expire."""
    return expire(timezone.now())


def expire(now: datetime | None = None, limit: int = 500) -> int:
    """Estimates whose validity ended unanswered expire; how many did."""
    now = now or timezone.now()
    ids = list(
        Estimate.objects.filter(state=Estimate.State.SENT, valid_until__lte=now).values_list(
            "pk", flat=True
        )[:limit]
    )
    if not ids:
        return 0
    # The condition is repeated: an approval that won the race stays an approval.
    return Estimate.objects.filter(
        pk__in=ids, state=Estimate.State.SENT, valid_until__lte=now
    ).update(state=Estimate.State.EXPIRED)


# --------------------------------------------------------------------------
# The customer's answer


@dataclass(frozen=True)
class Proof:
    """Who answered, how, and what shows it."""

    via: str
    contact: Contact
    user: Any = None
    email: str = ""
    message: Message | None = None
    evidence: dict[str, Any] | None = None


def _record(estimate: Estimate, answer: Answer, proof: Proof, at: datetime) -> Estimate:
    """Store the answer on a locked, sent, still valid estimate (the caller checked)."""
    estimate.state = (
        Estimate.State.APPROVED if answer == Answer.APPROVE else Estimate.State.DECLINED
    )
    estimate.decided_at = at
    estimate.decided_via = proof.via
    estimate.decided_by_contact = proof.contact
    estimate.decided_by_user = proof.user
    estimate.decided_email = proof.email
    estimate.decision_message = proof.message
    estimate.decision_evidence = {
        **(proof.evidence or {}),
        "text_sha256": estimate.text_sha256,
        "contact": {"id": proof.contact.pk, "name": proof.contact.name},
        "answer": str(answer),
        "at": at.isoformat(),
    }
    estimate.approved_text = estimate.text if answer == Answer.APPROVE else ""
    estimate.save()
    return estimate


def _answerable(estimate: Estimate, at: datetime) -> str | None:
    if estimate.state == Estimate.State.SENT and estimate.valid_until <= at:
        Estimate.objects.filter(pk=estimate.pk).update(state=Estimate.State.EXPIRED)
        estimate.state = Estimate.State.EXPIRED
    if estimate.state != Estimate.State.SENT:
        return _("This estimate cannot be answered any more (%(state)s).") % {
            "state": estimate.get_state_display()
        }
    return None


def answer_in_portal(
    estimate: Estimate,
    user: Any,
    answer: Answer,
    *,
    text_sha256: str,
    remote_addr: str = "",
    comment: str = "",
    at: datetime | None = None,
) -> Estimate:
    """A portal user approves or declines; only a contact who may order paid work.

    ``text_sha256`` is the digest of the text the page showed: an approval
    counts only for exactly the text the customer read.
    """
    at = at or timezone.now()
    if answer not in {Answer.APPROVE, Answer.DECLINE}:
        raise ValueError(f"not an answer: {answer}")
    contact = portal_contact(user)
    if contact is None or not contact.may_order_paid_work:
        raise EstimateError(
            _("Only a person your company authorised to order paid work can answer estimates.")
        )
    with transaction.atomic():
        locked = Estimate.objects.select_for_update().get(pk=estimate.pk)
        if locked.ticket.customer_id != user.customer_id:
            raise ValueError("an estimate of another customer")
        # Not raised in here: an estimate found expired is recorded as such.
        problem = _answerable(locked, at)
        if problem is None and text_sha256 != locked.text_sha256:
            problem = _("The estimate shown is not the one on record; reload the page.")
        if problem is None:
            _answer_in_portal(
                locked,
                user=user,
                contact=contact,
                answer=answer,
                remote_addr=remote_addr,
                comment=comment,
                at=at,
            )
    if problem is not None:
        raise EstimateError(problem)
    estimate.refresh_from_db()
    return estimate


def _answer_in_portal(
    locked: Estimate,
    *,
    user: Any,
    contact: Contact,
    answer: Answer,
    remote_addr: str,
    comment: str,
    at: datetime,
) -> None:
    if answer == Answer.APPROVE:
        body = _("Approved estimate %(reference)s in the customer portal.")
    else:
        body = _("Declined estimate %(reference)s in the customer portal.")
    body %= {"reference": locked.reference}
    if comment.strip():
        body += "\n\n" + comment.strip()
    message = Message.objects.create(
        ticket=locked.ticket,
        created_at=at,
        author_user=user,
        author_contact=contact,
        author_email=getattr(user, "email", ""),
        body=body,
        channel=Ticket.Channel.PORTAL,
    )
    proof = Proof(
        via=Estimate.Via.PORTAL,
        contact=contact,
        user=user,
        email=getattr(user, "email", ""),
        message=message,
        evidence={
            "portal_user": {"id": user.pk, "login": getattr(user, "login", "")},
            "remote_addr": remote_addr,
        },
    )
    _record(locked, answer, proof, at)


def answer_by_mail(
    ticket: Ticket, parsed: Any, message: Message, *, authenticated: bool, at: datetime
) -> Estimate | None:
    """An e-mail follow-up that answers an estimate of the ticket; the estimate, or None.

    Called by the inbound mail path inside its transaction. The reply must
    carry the reference and a keyword line (:func:`mail_answer`); without
    them it is just a follow-up. When it answers but cannot count (an
    address that is not verified, a contact who may not order, a sender our
    MTA does not vouch for, an expired estimate) staff get an internal note
    saying why, and the customer's text stays in the thread.
    """
    if getattr(parsed, "automatic", ""):
        return None
    candidates = list(
        Estimate.objects.select_for_update()
        .filter(ticket=ticket)
        .exclude(state=Estimate.State.DRAFT)
    )
    text = f"{getattr(parsed, 'subject', '')}\n{getattr(parsed, 'body', '')}"
    answered = [
        (e, a)
        for e in candidates
        if e.reference.lower() in text.lower()
        and (a := mail_answer(getattr(parsed, "body", ""), e.reference)) is not None
    ]
    if not answered:
        return None
    estimate, answer = answered[0]

    def note(reason: str) -> None:
        Message.objects.create(
            ticket=ticket,
            created_at=at,
            body=_("The reply to estimate %(reference)s was not recorded as an answer: %(reason)s")
            % {"reference": estimate.reference, "reason": reason},
            internal=True,
            channel=Ticket.Channel.STAFF,
        )

    if len(answered) > 1 or answer == Answer.AMBIGUOUS:
        note(_("it approves and declines at once; ask the customer."))
        return None
    sender = str(getattr(parsed, "sender", ""))
    contact = contact_by_address(ticket.customer_id, sender) if sender else None
    if contact is None:
        note(_("%(sender)s is not a verified address of the customer.") % {"sender": sender})
        return None
    if not contact.may_order_paid_work:
        note(_("%(name)s may not order paid work.") % {"name": contact.name})
        return None
    if not authenticated:
        note(_("our mail server did not confirm the sender (DMARC)."))
        return None
    problem = _answerable(estimate, at)
    if problem:
        note(problem)
        return None
    proof = Proof(
        via=Estimate.Via.EMAIL,
        contact=contact,
        email=sender,
        message=message,
        evidence={
            # The raw mail, kept whatever became of it, is the strongest proof.
            "inbound_mail": InboundMail.objects.filter(message_id=parsed.message_id)
            .values_list("pk", flat=True)
            .first()
            if getattr(parsed, "message_id", "")
            else None,
            "message_id": getattr(parsed, "message_id", ""),
            "sender": sender,
            "dmarc": [list(x) for x in getattr(parsed, "dmarc", ())],
            "in_reply_to": list(getattr(parsed, "thread_ids", ())[:5]),
        },
    )
    return _record(estimate, answer, proof, at)


def recorded(estimate: Estimate) -> timedelta:
    """Time of the estimate's work type recorded on its ticket since it was approved
    (staff compare it with the expected effort before the work overruns)."""
    if estimate.state != Estimate.State.APPROVED or estimate.decided_at is None:
        return timedelta(0)
    entries = estimate.ticket.time_entries.filter(started_at__gte=estimate.decided_at)
    if estimate.work_type:
        entries = entries.filter(work_type=estimate.work_type)
    return timedelta(seconds=sum(entries.values_list("seconds", flat=True)))


def ordered_for_billing(ticket: Ticket, work_type: str) -> bool:
    """Whether billable time of ``work_type`` on the ticket may be charged (for log_time)."""
    return order_of(ticket, work_type).ok


def settings_validity() -> timedelta:
    """How long a new estimate is valid by default (setting ``HELPDESK_ESTIMATE_VALIDITY_DAYS``)."""
    return timedelta(days=int(getattr(settings, "HELPDESK_ESTIMATE_VALIDITY_DAYS", 14)))
