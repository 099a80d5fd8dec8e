"""The corpus of real-world mail: none raises, each becomes what its name says.

File names are ``<outcome>--<what>.eml``; ``gen/`` is written by
corpus_gen.py, ``hand/`` holds mails written by hand or taken from real
mailers (addresses replaced).
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from django.core import mail as outbox
from tests.helpdesk import corpus_gen
from tests.helpdesk.conftest import SUPPORT, T0, MailWorld

from leitstand.helpdesk import inbound
from leitstand.helpdesk.mail import ParsedMail, parse
from leitstand.helpdesk.models import InboundMail

CORPUS = Path(__file__).resolve().parent / "corpus"
FILES = sorted(CORPUS.glob("*/*.eml"))


def test_the_corpus_is_large_and_the_generated_part_is_current() -> None:
    assert len(FILES) >= 100
    generated = {p.stem: p.read_bytes() for p in (CORPUS / "gen").glob("*.eml")}
    assert generated == corpus_gen.corpus(), "run python tests/helpdesk/corpus_gen.py"


@pytest.mark.django_db
@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_each_mail_ends_as_its_name_says(world: MailWorld, path: Path) -> None:
    expected = path.stem.split("--", 1)[0]
    raw = path.read_bytes()
    outcome = inbound.receive(raw, mailbox=SUPPORT, at=T0)
    assert (outcome.kind, outcome.reason) == (expected, outcome.reason)
    assert outcome.reason
    stored = InboundMail.objects.get(pk=outcome.mail_id)
    assert bytes(stored.raw) == raw  # kept as it came, also when quarantined
    assert (stored.outcome, stored.processed_at) == (expected, T0)
    if expected in {"ticket", "follow_up"}:
        assert stored.ticket is not None
        assert all("\x00" not in m.body for m in stored.ticket.messages.all())
    parsed = parse(raw)
    automatic = isinstance(parsed, ParsedMail) and bool(parsed.automatic)
    # RFC 3834: nothing automatic is ever answered; only a new ticket is acknowledged.
    assert len(outbox.outbox) == (1 if expected == "ticket" and not automatic else 0)


@pytest.mark.django_db
def test_a_25_mb_attachment_becomes_a_ticket(world: MailWorld) -> None:
    payload = base64.encodebytes(b"\x89PNG" + bytes(25 * 1024 * 1024))
    raw = (
        b"From: alice@c90001.example\nSubject: big\nMessage-ID: <big@x.example>\n"
        b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nThe dump is attached.\n"
        b'--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename="dump.bin"\n'
        b"Content-Transfer-Encoding: base64\n\n" + payload + b"--b--\n"
    )
    outcome = inbound.receive(raw, mailbox=SUPPORT, at=T0)
    assert outcome.kind == "ticket"
    stored = InboundMail.objects.get(pk=outcome.mail_id)
    assert (stored.size, stored.truncated) == (len(raw), False)
    assert "dump.bin (application/octet-stream, 26214404 bytes)" in (
        stored.ticket.messages.get().body  # type: ignore[union-attr]
    )


@pytest.mark.django_db
def test_a_mail_over_the_size_limit_keeps_its_header_in_the_quarantine(
    world: MailWorld,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.HELPDESK_MAX_MAIL_BYTES = 1000
    raw = b"From: alice@c90001.example\nSubject: huge\nMessage-ID: <huge@x.example>\n\n" + (
        b"x" * 5000
    )
    outcome = inbound.receive(raw, mailbox=SUPPORT, at=T0)
    assert (outcome.kind, outcome.reason) == (
        "quarantined",
        "too large: 5071 bytes, the limit is 1000 bytes",
    )
    stored = InboundMail.objects.get()
    assert (stored.truncated, stored.sender, stored.size) == (True, "alice@c90001.example", 5071)
    assert bytes(stored.raw) == raw[: raw.index(b"\n\n")]
    assert inbound.reprocess(stored).kind == "quarantined"  # nothing to reprocess from
