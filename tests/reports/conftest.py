"""Fixtures for claims: a priced contract with a claim rule, outages, incidents."""

from __future__ import annotations

import email.policy
import socket
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from email import message_from_bytes
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from tests.conftest import Tenant

from leitstand.helpdesk.actions import open_ticket
from leitstand.helpdesk.models import Ticket
from leitstand.monitoring.models import CheckEvent
from leitstand.reports.models import ClaimRule

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


@pytest.fixture
def claim_rule(db: None) -> ClaimRule:
    """Seed 002 §2.2 with the product's default scale (10/25/50 %) and a 50 % cap."""
    return ClaimRule.objects.create(name="webosa", window_days=14, requires_reported_incident=True)


@pytest.fixture
def priced(claim_rule: ClaimRule, customer_a: Tenant, customer_b: Tenant) -> ClaimRule:
    """Both tenants' package costs 200.00 a month and carries the claim rule."""
    plan = customer_a.contract.plan
    plan.monthly_fee = Decimal("200.00")
    plan.claim_rule = claim_rule
    plan.save()
    customer_b.contract.plan = plan  # the same row; B's cached copy would be stale
    return claim_rule


def outage(tenant: Tenant, start: datetime, end: datetime) -> None:
    """The tenant's HTTP check was confirmed down from ``start`` to ``end``."""
    for at, old, new in ((start, "ok", "critical"), (end, "critical", "ok")):
        CheckEvent.objects.create(
            service_check=tenant.check,
            at=at,
            kind="state",
            old_state=old,
            new_state=new,
            priority="P1",
        )


def incident(tenant: Tenant, at: datetime, channel: str = Ticket.Channel.PORTAL) -> Ticket:
    return open_ticket(
        tenant.customer,
        "Website down",
        "Our shop does not load.",
        channel=channel,
        kind=Ticket.Kind.INCIDENT,
        asset=tenant.asset,
        at=at,
    )


@pytest.fixture
def november_outage(priced: ClaimRule, customer_a: Tenant) -> Ticket:
    """Two hours down on 10 November 2026 (99.722 % of the month: the 10 % tier,
    20.00 of 200.00), and an incident the customer reported in the portal."""
    outage(customer_a, berlin(2026, 11, 10, 10, 0), berlin(2026, 11, 10, 12, 0))
    return incident(customer_a, berlin(2026, 11, 10, 10, 20))


@pytest.fixture
def at() -> Iterator[Callable[[datetime], None]]:
    """Move the clock: ``at(berlin(2026, 12, 3, 9, 0))``."""
    travellers: list[time_machine.travel] = []

    def move(when: datetime) -> None:
        if travellers:
            travellers.pop().stop()
        traveller = time_machine.travel(when, tick=False)
        traveller.start()
        travellers.append(traveller)

    yield move
    for traveller in travellers:
        traveller.stop()


class SmtpSink:
    """aiosmtpd on 127.0.0.1 that keeps what it receives; ``refuse`` answers 451."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.received: list[EmailMessage] = []
        self.refuse = False
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            return "451 try again later"
        raw = bytes(envelope.original_content or b"")
        self.received.append(message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpSink]:
    """Django's real SMTP backend, talking to a real server on loopback."""
    sink = SmtpSink()
    sink.controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    try:
        yield sink
    finally:
        sink.controller.stop()
