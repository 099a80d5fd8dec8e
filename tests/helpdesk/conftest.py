"""The world inbound mail arrives in (see tests/helpdesk/corpus_gen.py): Alice's
address is verified for customer A, Carol's is known but not verified, Bob
belongs to customer B, and customer A has ticket LS-2026-000001 whose first
message is ``<root-1@c90001.example>``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from tests.conftest import Tenant

from leitstand.contracts.models import VerifiedEmail
from leitstand.helpdesk import actions
from leitstand.helpdesk.inbound import Mailbox
from leitstand.helpdesk.models import Ticket

T0 = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
SUPPORT = Mailbox(address="support@provider.example")


@dataclass
class MailWorld:
    a: Tenant
    b: Tenant
    ticket: Ticket


@pytest.fixture
def world(customer_a: Tenant, customer_b: Tenant, settings) -> MailWorld:  # type: ignore[no-untyped-def]
    settings.TICKET_NUMBER_FORMAT = "LS-{year}-{seq:06d}"
    VerifiedEmail.objects.filter(contact=customer_a.contact).update(verified_at=T0)
    VerifiedEmail.objects.filter(contact=customer_b.contact).update(verified_at=T0)
    VerifiedEmail.objects.create(contact=customer_a.contact, address="Carol@C90001.example")
    ticket = actions.open_ticket(
        customer_a.customer,
        "Server down",
        "It is down.",
        channel=Ticket.Channel.EMAIL,
        requester=customer_a.contact,
        requester_email="alice@c90001.example",
        verified=True,
        at=T0,
    )
    ticket.messages.update(message_id="<root-1@c90001.example>")
    assert ticket.number == "LS-2026-000001"
    return MailWorld(customer_a, customer_b, ticket)
