"""Two helpdesks acknowledging each other exchange at most two messages.

Helpdesk A (support@a.example) has a customer whose verified address is
helpdesk B's, and the other way round: the classic mail loop. Each side runs
the same ``receive`` with its own :class:`Mailbox`; every mail one sends is
delivered to the other until nobody sends anything more.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core import mail as outbox
from django.core.mail import EmailMessage
from tests.conftest import Tenant
from tests.helpdesk.conftest import T0

from leitstand.contracts.models import VerifiedEmail
from leitstand.helpdesk import inbound
from leitstand.helpdesk.inbound import Mailbox

pytestmark = pytest.mark.django_db
A = Mailbox("support@a.example")
B = Mailbox("support@b.example")


@pytest.fixture
def peers(customer_a: Tenant, customer_b: Tenant) -> None:
    VerifiedEmail.objects.create(contact=customer_a.contact, address=B.address, verified_at=T0)
    VerifiedEmail.objects.create(contact=customer_b.contact, address=A.address, verified_at=T0)


def run(first: bytes, to: Mailbox, strip: Callable[[bytes], bytes] = lambda raw: raw) -> int:
    """Deliver ``first`` to ``to``, then every mail either side sends; count them."""
    queue = [(first, to)]
    delivered = 0
    while queue and delivered < 20:
        raw, mailbox = queue.pop(0)
        delivered += 1
        sent_before = len(outbox.outbox)
        inbound.receive(raw, mailbox=mailbox, at=T0)
        for message in outbox.outbox[sent_before:]:
            assert isinstance(message, EmailMessage)
            peer = B if message.to == [B.address] else A
            queue.append((strip(message.message().as_bytes()), peer))
    return delivered


def test_two_helpdesks_stop_after_one_acknowledgement(peers: None) -> None:
    first = b"From: support@b.example\nSubject: Hello\nMessage-ID: <start@b.example>\n\nHi\n"
    assert run(first, A) == 2  # the mail and A's acknowledgement, which B does not answer


def test_even_a_responder_that_ignores_auto_submitted_stops(peers: None) -> None:
    """A careless peer that drops Auto-Submitted and the threading headers opens
    a ticket for our acknowledgement and acknowledges it; our ticket number in
    its subject makes that a follow-up, which is never acknowledged: three mails."""
    dropped = (b"auto-submitted", b"x-auto-response", b"in-reply-to", b"references")

    def strip(raw: bytes) -> bytes:
        return b"\n".join(line for line in raw.split(b"\n") if not line.lower().startswith(dropped))

    first = b"From: support@b.example\nSubject: Hello\nMessage-ID: <start2@b.example>\n\nHi\n"
    assert run(first, A, strip) == 3
    assert [m.to for m in outbox.outbox] == [[B.address], [A.address]]
