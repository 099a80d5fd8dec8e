"""Helpdesk workflows (``do_*`` style): open, reply, wait, resolve, log time, and
turn monitoring events into incidents. Views and jobs call these; these change
the models inside transactions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from leitstand.contracts.models import Asset, Contact, Customer
from leitstand.core.sequences import take_next
from leitstand.helpdesk.models import (
    Attachment,
    EventCursor,
    Message,
    RunningTimer,
    Ticket,
    TicketEvent,
    TicketSequence,
    TimeEntry,
    WaitingPeriod,
)
from leitstand.helpdesk.rules import ACHIEVED_BY, Clock, clock_state, is_billable
from leitstand.monitoring.models import CheckEvent
from leitstand.sla.deadlines import consumed, deadline
from leitstand.sla.models import SlaPolicy, SlaTarget

OPEN = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.WAITING)
PROBLEM_STATES = frozenset({"critical", "unreachable"})


def next_number(at: datetime) -> str:
    """The next ticket number of ``at``'s year; gapless, safe under concurrency."""
    year = timezone.localtime(at).year
    seq = take_next(TicketSequence, year)
    return str(settings.TICKET_NUMBER_FORMAT).format(year=year, seq=seq)


def open_ticket(
    customer: Customer,
    subject: str,
    body: str,
    *,
    channel: str,
    kind: str = Ticket.Kind.REQUEST,
    priority: str = "",
    asset: Asset | None = None,
    requester: Contact | None = None,
    requester_email: str = "",
    verified: bool = False,
    user: Any = None,
    at: datetime | None = None,
    group_key: str = "",
) -> Ticket:
    """Create a ticket with its first message."""
    at = at or timezone.now()
    if asset is not None and asset.customer_id != customer.pk:
        raise ValueError("the asset belongs to another customer")
    contract = asset.active_contract(timezone.localdate(at)) if asset else None
    # Looked up before the number is taken: the sequence row stays locked shorter.
    due, due_target = initial_due(contract, priority, at)
    with transaction.atomic():
        ticket = Ticket.objects.create(
            number=next_number(at),
            customer=customer,
            asset=asset,
            contract=contract,
            kind=kind,
            priority=priority,
            channel=channel,
            subject=subject[:300],
            requester=requester,
            requester_email=requester_email,
            verified=verified,
            created_at=at,
            group_key=group_key,
            sla_due_at=due,
            sla_due_target=due_target,
        )
        Message.objects.create(
            ticket=ticket,
            created_at=at,
            author_user=user,
            author_contact=requester,
            author_email=requester_email,
            body=body,
            channel=channel,
        )
    return ticket


def reply(
    ticket: Ticket, user: Any, body: str, *, internal: bool = False, at: datetime | None = None
) -> Message:
    """A staff message; the first one the customer sees is the initial response."""
    at = at or timezone.now()
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        message = Message.objects.create(
            ticket=locked,
            created_at=at,
            author_user=user,
            body=body,
            internal=internal,
            channel=Ticket.Channel.STAFF,
        )
        if not internal and locked.first_response_at is None:
            locked.first_response_at = at
        if locked.status == Ticket.Status.NEW:
            locked.status = Ticket.Status.OPEN
        locked.save()
        refresh_due(locked, now=at)
    ticket.refresh_from_db()
    return message


def set_status(ticket: Ticket, status: str, *, at: datetime | None = None) -> Ticket:
    """Change the status; waiting for the customer stops every SLA clock until it ends."""
    at = at or timezone.now()
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if status == locked.status:
            return locked
        if status == Ticket.Status.WAITING:
            WaitingPeriod.objects.create(ticket=locked, started_at=at)
        elif locked.status == Ticket.Status.WAITING:
            WaitingPeriod.objects.filter(ticket=locked, ended_at__isnull=True).update(ended_at=at)
        if status == Ticket.Status.RESOLVED:
            locked.resolved_at = at
        elif status == Ticket.Status.CLOSED:
            locked.closed_at = at
            locked.resolved_at = locked.resolved_at or at
        elif status in OPEN:
            locked.resolved_at = locked.closed_at = None
        locked.status = status
        locked.save()
        refresh_due(locked, now=at)
    ticket.refresh_from_db()
    return ticket


def set_priority(ticket: Ticket, priority: str) -> Ticket:
    """A new priority; the clocks follow at once (they are computed, not stored)."""
    policy = policy_of(ticket)
    if policy is not None and priority not in policy.priorities():
        raise ValueError(f"priority {priority!r} is not defined by SLA policy {policy.name!r}")
    Ticket.objects.filter(pk=ticket.pk).update(priority=priority)
    ticket.refresh_from_db()
    refresh_due(ticket)
    return ticket


def mark(ticket: Ticket, field: str, at: datetime | None = None) -> Ticket:
    """Record a milestone: ``diagnosed_at`` or ``restored_at``."""
    if field not in {"diagnosed_at", "restored_at"}:
        raise ValueError(f"unknown milestone {field!r}")
    Ticket.objects.filter(pk=ticket.pk, **{f"{field}__isnull": True}).update(
        **{field: at or timezone.now()}
    )
    ticket.refresh_from_db()
    refresh_due(ticket)
    return ticket


def policy_of(ticket: Ticket) -> SlaPolicy | None:
    """The SLA policy in force for the ticket, from its contract."""
    if ticket.contract is None:
        return None
    policy = ticket.contract.policy("sla_policy")
    return policy if isinstance(policy, SlaPolicy) else None


def pauses(ticket: Ticket, now: datetime) -> list[tuple[datetime, datetime]]:
    """Waiting periods; an open one lasts until ``now``."""
    return [
        (p.started_at, p.ended_at or now)
        for p in ticket.waiting_periods.all()
        if (p.ended_at or now) > p.started_at
    ]


def clocks(ticket: Ticket, now: datetime | None = None) -> list[Clock]:
    """Every SLA clock of the ticket, from the shared rule module (seed targets)."""
    now = now or timezone.now()
    policy = policy_of(ticket)
    if policy is None or not ticket.priority:
        return []
    calendar = policy.calendar.to_rule()
    paused_now = ticket.status == Ticket.Status.WAITING
    periods = pauses(ticket, now)
    out = []
    # .all() so that a list of tickets can prefetch the targets (portal overview).
    for target in [t for t in policy.targets.all() if t.priority == ticket.priority]:
        rule = target.to_rule()
        due = deadline(
            rule, calendar, ticket.created_at, diagnosed_at=ticket.diagnosed_at, paused=periods
        )
        achieved = getattr(ticket, ACHIEVED_BY.get(target.target, "resolved_at"))
        used_time = consumed(
            rule,
            calendar,
            ticket.created_at,
            achieved or now,
            diagnosed_at=ticket.diagnosed_at,
            paused=periods,
        )
        used = None if used_time is None else used_time / rule.within
        out.append(
            Clock(
                target=target.target,
                within=rule.within,
                deadline=due,
                achieved_at=achieved,
                state=clock_state(due, achieved, now, paused=paused_now, used=used),
                used=used,
            )
        )
    return out


def log_time(
    ticket: Ticket,
    user: Any,
    work_type: str,
    duration: timedelta,
    *,
    started_at: datetime | None = None,
    note: str = "",
) -> TimeEntry:
    """Record time; billable or included is decided here, from the contract."""
    if duration <= timedelta(0):
        raise ValueError("a time entry needs a positive duration")
    priced: frozenset[str] = frozenset()
    if ticket.contract is not None:
        card = ticket.contract.policy("rate_card")
        if card is not None:
            priced = frozenset(card.rates.values_list("work_type", flat=True))  # type: ignore[attr-defined]
    billable = is_billable(
        kind=ticket.kind,
        out_of_scope=ticket.out_of_scope,
        work_type=work_type,
        priced_work_types=priced,
    )
    if billable:
        # Seed 001 §4, 003 §1: paid work needs an authorised order or an approved
        # estimate; without one the time is kept, but not charged.
        from leitstand.helpdesk.estimates import ordered_for_billing  # noqa: PLC0415

        billable = ordered_for_billing(ticket, work_type)
    return TimeEntry.objects.create(
        ticket=ticket,
        user=user,
        work_type=work_type,
        started_at=started_at or timezone.now() - duration,
        seconds=int(duration.total_seconds()),
        note=note[:500],
        billable=billable,
    )


# --------------------------------------------------------------------------
# Back office (helpdesk-office): the next deadline the queues sort by, and the
# quick actions of the ticket page. Each writes a TicketEvent for the thread.


def due_of(ticket: Ticket, now: datetime | None = None) -> tuple[datetime | None, str]:
    """The nearest unmet SLA deadline and its target, or ``(None, "")`` when no
    clock runs: closed or resolved, waiting for the customer (the deadline moves
    for as long as the wait lasts), no SLA policy, or only clocks counting from
    a diagnosis that has not happened."""
    if ticket.status not in (Ticket.Status.NEW, Ticket.Status.OPEN):
        return None, ""
    running = [
        (c.deadline, c.target)
        for c in clocks(ticket, now)
        if c.deadline is not None and c.achieved_at is None
    ]
    if not running:
        return None, ""
    return min(running)


def initial_due(contract: Any, priority: str, created_at: datetime) -> tuple[datetime | None, str]:
    """:func:`due_of` for a ticket about to be opened (no pause, no milestone yet),
    in one query: the ticket is inserted with its deadline instead of updated
    after (measured: three round trips fewer per ticket)."""
    if contract is None or not priority:
        return None, ""
    policy_id = contract.sla_policy_id or contract.plan.sla_policy_id
    if policy_id is None:
        return None, ""
    targets = list(
        SlaTarget.objects.filter(policy_id=policy_id, priority=priority).select_related(
            "policy__calendar"
        )
    )
    if not targets:
        return None, ""
    calendar = targets[0].policy.calendar.to_rule()
    running = [
        (due, t.target)
        for t in targets
        if (due := deadline(t.to_rule(), calendar, created_at)) is not None
    ]
    return min(running) if running else (None, "")


def refresh_due(ticket: Ticket, now: datetime | None = None) -> None:
    """Store :func:`due_of` on the ticket: called by every action that changes a clock."""
    due, target = due_of(ticket, now)
    if (ticket.sla_due_at, ticket.sla_due_target) != (due, target):
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due, sla_due_target=target)
    ticket.sla_due_at, ticket.sla_due_target = due, target


def record_event(
    ticket: Ticket,
    user: Any,
    kind: str,
    old: object = "",
    new: object = "",
    *,
    at: datetime | None = None,
) -> TicketEvent:
    """One system line in the thread: who changed what from what to what."""
    return TicketEvent.objects.create(
        ticket=ticket,
        at=at or timezone.now(),
        user=user,
        kind=kind,
        old_value=("" if old is None else str(old))[:200],
        new_value=("" if new is None else str(new))[:200],
    )


def assign(ticket: Ticket, user: Any, assignee: Any, *, at: datetime | None = None) -> Ticket:
    """Give the ticket to ``assignee`` (a staff user) or to nobody (None)."""
    if assignee is not None and (not assignee.is_staff or not assignee.is_active):
        raise ValueError("only active staff can be assigned")
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if locked.assignee_id != (assignee.pk if assignee else None):
            old = locked.assignee
            locked.assignee = assignee
            locked.save(update_fields=["assignee", "updated_at"])
            record_event(locked, user, "assignee", old, assignee, at=at)
    ticket.refresh_from_db()
    return ticket


def change_status(ticket: Ticket, user: Any, status: str, *, at: datetime | None = None) -> Ticket:
    """:func:`set_status` by a person, recorded in the thread."""
    if status not in Ticket.Status.values:
        raise ValueError(f"unknown status {status!r}")
    old = ticket.status
    with transaction.atomic():
        set_status(ticket, status, at=at)
        if old != status:
            record_event(ticket, user, "status", old, status, at=at)
    return ticket


def change_priority(ticket: Ticket, user: Any, priority: str) -> Ticket:
    """:func:`set_priority` by a person; the clocks are computed again from the policy."""
    old = ticket.priority
    with transaction.atomic():
        set_priority(ticket, priority)
        if old != priority:
            record_event(ticket, user, "priority", old, priority)
    return ticket


def record_milestone(
    ticket: Ticket, user: Any, field: str, *, at: datetime | None = None
) -> Ticket:
    """:func:`mark` (diagnosed, restored) by a person, recorded in the thread."""
    with transaction.atomic():
        before = getattr(ticket, field, None)
        mark(ticket, field, at)
        if before is None:
            record_event(ticket, user, field, "", "", at=at)
    return ticket


def set_out_of_scope(ticket: Ticket, user: Any, value: bool) -> Ticket:
    """Seed 002 §1.5 "Incorrect Incident Reports": "If it is later determined that
    the report did not concern an actual incident, Webosa reserves the right to
    charge the applicable IT Support hourly rate".

    Marking (or unmarking) decides billability of the time already recorded
    again, except for entries already on an invoice: those stay as invoiced.
    """
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if locked.out_of_scope == value:
            return locked
        locked.out_of_scope = value
        locked.save(update_fields=["out_of_scope", "updated_at"])
        priced = _priced_work_types(locked)
        for entry in locked.time_entries.filter(invoice_lines__isnull=True):
            billable = _billable(locked, entry.work_type, priced)
            if entry.billable != billable:
                entry.billable = billable
                entry.save(update_fields=["billable"])
        record_event(locked, user, "out_of_scope", not value, value)
    ticket.refresh_from_db()
    return ticket


def _billable(ticket: Ticket, work_type: str, priced: frozenset[str]) -> bool:
    """The decision of :func:`log_time` for one work type, made again."""
    from leitstand.helpdesk.estimates import ordered_for_billing  # noqa: PLC0415

    return is_billable(
        kind=ticket.kind,
        out_of_scope=ticket.out_of_scope,
        work_type=work_type,
        priced_work_types=priced,
    ) and ordered_for_billing(ticket, work_type)


def _priced_work_types(ticket: Ticket) -> frozenset[str]:
    if ticket.contract is None:
        return frozenset()
    card = ticket.contract.policy("rate_card")
    if card is None:
        return frozenset()
    return frozenset(card.rates.values_list("work_type", flat=True))  # type: ignore[attr-defined]


def work_types(ticket: Ticket) -> list[str]:
    """The work types to offer when recording time: the contract's rate card first."""
    priced = sorted(_priced_work_types(ticket))
    return priced or ["support"]


def start_timer(
    ticket: Ticket, user: Any, work_type: str, *, at: datetime | None = None
) -> RunningTimer:
    """Start the person's stopwatch on the ticket (one per person and ticket)."""
    try:
        with transaction.atomic():
            return RunningTimer.objects.create(
                ticket=ticket, user=user, work_type=work_type[:50], started_at=at or timezone.now()
            )
    except IntegrityError:
        raise ValueError("a timer is already running for you on this ticket") from None


def stop_timer(
    ticket: Ticket, user: Any, *, note: str = "", at: datetime | None = None
) -> TimeEntry | None:
    """Stop the stopwatch and record its time; None if it ran less than a second."""
    at = at or timezone.now()
    with transaction.atomic():
        timer = RunningTimer.objects.select_for_update().filter(ticket=ticket, user=user).first()
        if timer is None:
            raise ValueError("no timer is running for you on this ticket")
        timer.delete()
        duration = at - timer.started_at
        if duration < timedelta(seconds=1):
            return None
        return log_time(
            ticket, user, timer.work_type, duration, started_at=timer.started_at, note=note
        )


class MailNotSent(Exception):
    """The mail server refused the reply; nothing was stored."""


def staff_reply(
    ticket: Ticket, user: Any, body: str, *, files: Sequence[Any] = (), at: datetime | None = None
) -> tuple[Message, bool]:
    """Answer the customer: the message is stored and mailed to the requester in
    one transaction (if the mail server refuses, neither happens and the caller
    keeps the text). Returns the message and whether a mail went out (a phone
    ticket may have no address to write to).

    The mail carries a Message-ID of ours, so the customer's answer threads
    back to the ticket by In-Reply-To (see inbound._thread).
    """
    from email.utils import make_msgid  # noqa: PLC0415

    from django.core.mail import EmailMessage  # noqa: PLC0415

    from leitstand.helpdesk import attachments  # noqa: PLC0415 - attachments imports models only
    from leitstand.helpdesk.inbound import Mailbox  # noqa: PLC0415 - inbound imports actions

    at = at or timezone.now()
    recipient = ticket.requester_email or _requester_address(ticket)
    mailbox = Mailbox.default()
    domain = mailbox.address.rpartition("@")[2] or "localhost"
    stored: list[Attachment] = []
    try:
        with transaction.atomic():
            message = reply(ticket, user, body, at=at)
            if recipient:
                message.message_id = make_msgid(domain=domain)
                message.save(update_fields=["message_id"])
            for f in files:
                stored.append(
                    attachments.store_upload(ticket, f, user=user, message=message, at=at)
                )
            if recipient:
                earlier = list(
                    ticket.messages.exclude(message_id="")
                    .exclude(pk=message.pk)
                    .order_by("created_at", "id")
                    .values_list("message_id", flat=True)
                )
                headers = {"Message-ID": message.message_id}
                if earlier:
                    headers |= {"In-Reply-To": earlier[-1], "References": " ".join(earlier[-10:])}
                mail = EmailMessage(
                    subject=f"[{ticket.number}] {ticket.subject}"[:300],
                    body=body,
                    from_email=mailbox.address,
                    to=[recipient],
                    headers=headers,
                )
                for a in stored:
                    with a.file.open("rb") as fh:
                        mail.attach(a.name, fh.read(), a.content_type)
                mail.send()
    except Exception as exc:
        for a in stored:
            a.file.delete(save=False)
        if isinstance(exc, (ValueError, attachments.AttachmentError)):
            raise
        raise MailNotSent(str(exc)) from exc
    return message, bool(recipient)


def _requester_address(ticket: Ticket) -> str:
    if ticket.requester is None:
        return ""
    first = ticket.requester.verified_emails.order_by("-verified_at", "pk").first()
    return first.address if first else ""


def internal_note(
    ticket: Ticket, user: Any, body: str, *, files: Sequence[Any] = (), at: datetime | None = None
) -> Message:
    """A note only staff see; its files are internal too."""
    from leitstand.helpdesk import attachments  # noqa: PLC0415

    at = at or timezone.now()
    stored: list[Attachment] = []
    try:
        with transaction.atomic():
            message = reply(ticket, user, body, internal=True, at=at)
            for f in files:
                stored.append(
                    attachments.store_upload(
                        ticket, f, user=user, message=message, internal=True, at=at
                    )
                )
    except Exception:
        for a in stored:
            a.file.delete(save=False)
        raise
    return message


def phone_ticket(
    customer: Customer,
    user: Any,
    subject: str,
    body: str,
    *,
    kind: str,
    priority: str = "",
    asset: Asset | None = None,
    requester: Contact | None = None,
    verified: bool = False,
    assign_to_me: bool = True,
) -> Ticket:
    """Issue 6 item 2, "phone calls entered by staff"; seed 001 §4: requests
    arriving "telefonisch ... werden als Support-Request im
    Helpdesk-Ticketsystem dokumentiert". ``verified`` is the operator's word
    that the caller identified as a contact of the customer (seed 000 VIII)."""
    if requester is not None and requester.customer_id != customer.pk:
        raise ValueError("the contact belongs to another customer")
    with transaction.atomic():
        ticket = open_ticket(
            customer,
            subject,
            body,
            channel=Ticket.Channel.PHONE,
            kind=kind,
            priority="",
            asset=asset,
            requester=requester,
            requester_email=_requester_address_of(requester),
            verified=verified,
            user=user,
        )
        if priority:
            set_priority(ticket, priority)
        if assign_to_me:
            assign(ticket, user, user)
    return ticket


def _requester_address_of(contact: Contact | None) -> str:
    if contact is None:
        return ""
    first = contact.verified_emails.order_by("-verified_at", "pk").first()
    return first.address if first else ""


# --------------------------------------------------------------------------
# Monitoring events -> incidents


def _incident_for(event: CheckEvent) -> tuple[Ticket, bool]:
    """The host's open monitoring incident, or a new one (one per host, not per service)."""
    check = event.service_check
    asset = check.asset
    key = f"asset:{asset.pk}"
    existing = Ticket.objects.filter(group_key=key, status__in=OPEN).first()
    if existing is not None:
        return existing, False
    subject = f"{asset.name}: {check.name} {event.new_state}"
    try:
        with transaction.atomic():
            ticket = open_ticket(
                asset.customer,
                subject,
                f"{check.name} is {event.new_state}: {event.reason}",
                channel=Ticket.Channel.MONITORING,
                kind=Ticket.Kind.INCIDENT,
                priority=event.priority,
                asset=asset,
                verified=True,
                at=event.at,
                group_key=key,
            )
        return ticket, True
    except IntegrityError:
        # Another worker opened it a moment ago: the constraint keeps it to one.
        return Ticket.objects.get(group_key=key, status__in=OPEN), False


def process_event(event: CheckEvent) -> Ticket | None:
    """Seed 002 §1.5: "When a potential incident is detected, Webosa personnel are
    notified automatically. As a result, reporting an incident by the Client is
    generally not required." A confirmed problem opens (or joins) the host's
    incident; a recovery is noted on it. Changes during announced maintenance
    and while flapping are recorded by monitoring but open nothing here.
    """
    if event.kind != "state" or event.in_maintenance:
        return None
    if event.new_state in PROBLEM_STATES and not event.flapping:
        ticket, created = _incident_for(event)
        if not created:
            Message.objects.create(
                ticket=ticket,
                created_at=event.at,
                body=f"{event.service_check.name} is {event.new_state}: {event.reason}",
                channel=Ticket.Channel.MONITORING,
            )
        return ticket
    if event.old_state in PROBLEM_STATES and event.new_state == "ok":
        key = f"asset:{event.service_check.asset_id}"
        incident = Ticket.objects.filter(group_key=key, status__in=OPEN).first()
        if incident is not None:
            Message.objects.create(
                ticket=incident,
                created_at=event.at,
                body=f"{event.service_check.name} recovered: {event.reason}",
                channel=Ticket.Channel.MONITORING,
            )
        return incident
    return None


def process_new_events(limit: int = 500) -> int:
    """One step of the job: read monitoring events after the cursor, in order."""
    with transaction.atomic():
        cursor, _ = EventCursor.objects.select_for_update().get_or_create(name="helpdesk")
        events = list(
            CheckEvent.objects.filter(pk__gt=cursor.last_event_id)
            .select_related("service_check__asset__customer")
            .order_by("pk")[:limit]
        )
        for event in events:
            process_event(event)
        if events:
            cursor.last_event_id = events[-1].pk
            cursor.save(update_fields=["last_event_id"])
    return len(events)
