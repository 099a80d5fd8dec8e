"""What a customer does in the portal, as actions the views call."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from leitstand.helpdesk import actions as helpdesk
from leitstand.helpdesk.models import Message, Ticket

# A reply to a waiting ticket ends the wait (the clocks run again); a reply to a
# resolved one means it is not resolved for the customer.
REOPENED_BY_A_REPLY = (Ticket.Status.WAITING, Ticket.Status.RESOLVED, Ticket.Status.CLOSED)


def customer_reply(ticket: Ticket, user: Any, body: str) -> Message:
    """A customer's answer; a ticket waiting for the customer goes back to open,
    which restarts its SLA clocks (the waiting period ends now)."""
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(
            ticket=ticket,
            created_at=now,
            author_user=user,
            author_email=getattr(user, "email", ""),
            body=body,
            channel=Ticket.Channel.PORTAL,
        )
        if ticket.status in REOPENED_BY_A_REPLY:
            helpdesk.set_status(ticket, Ticket.Status.OPEN, at=now)
    return message
