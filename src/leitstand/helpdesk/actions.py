"""Helpdesk workflows (``do_*`` style): open, reply, wait, resolve, log time, and
turn monitoring events into incidents. Views and jobs call these; these change
the models inside transactions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from leitstand.contracts.models import Asset, Contact, Customer
from leitstand.core.sequences import take_next
from leitstand.helpdesk.models import (
    EventCursor,
    Message,
    Ticket,
    TicketSequence,
    TimeEntry,
    WaitingPeriod,
)
from leitstand.helpdesk.rules import ACHIEVED_BY, Clock, clock_state, is_billable
from leitstand.monitoring.models import CheckEvent
from leitstand.sla.deadlines import consumed, deadline
from leitstand.sla.models import SlaPolicy

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
    with transaction.atomic():
        ticket = Ticket.objects.create(
            number=next_number(at),
            customer=customer,
            asset=asset,
            contract=asset.active_contract(timezone.localdate(at)) if asset else None,
            kind=kind,
            priority=priority,
            channel=channel,
            subject=subject[:300],
            requester=requester,
            requester_email=requester_email,
            verified=verified,
            created_at=at,
            group_key=group_key,
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
    ticket.refresh_from_db()
    return ticket


def set_priority(ticket: Ticket, priority: str) -> Ticket:
    """A new priority; the clocks follow at once (they are computed, not stored)."""
    policy = policy_of(ticket)
    if policy is not None and priority not in policy.priorities():
        raise ValueError(f"priority {priority!r} is not defined by SLA policy {policy.name!r}")
    Ticket.objects.filter(pk=ticket.pk).update(priority=priority)
    ticket.refresh_from_db()
    return ticket


def mark(ticket: Ticket, field: str, at: datetime | None = None) -> Ticket:
    """Record a milestone: ``diagnosed_at`` or ``restored_at``."""
    if field not in {"diagnosed_at", "restored_at"}:
        raise ValueError(f"unknown milestone {field!r}")
    Ticket.objects.filter(pk=ticket.pk, **{f"{field}__isnull": True}).update(
        **{field: at or timezone.now()}
    )
    ticket.refresh_from_db()
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
    for target in policy.targets.filter(priority=ticket.priority):
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
    return TimeEntry.objects.create(
        ticket=ticket,
        user=user,
        work_type=work_type,
        started_at=started_at or timezone.now() - duration,
        seconds=int(duration.total_seconds()),
        note=note[:500],
        billable=is_billable(
            kind=ticket.kind,
            out_of_scope=ticket.out_of_scope,
            work_type=work_type,
            priced_work_types=priced,
        ),
    )


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
