"""Helpers for the account tests: RFC 6238 codes, a real SMTP server, the task worker."""

from __future__ import annotations

import hashlib
import hmac
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

import pytest
import time_machine
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.conftest import PASSWORD

from leitstand.accounts import twofactor
from leitstand.accounts.models import User


def totp(key_hex: str, at: float, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 from the device key, written here independently of django-otp."""
    counter = int(at // step)
    digest = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def enrol(user: User, at: float) -> tuple[TOTPDevice, list[str]]:
    """Give ``user`` a confirmed TOTP device the way the enrolment page does."""
    device = twofactor.pending_device(user)
    with time_machine.travel(at, tick=False):
        codes = twofactor.confirm(device, totp(device.key, at))
    assert codes is not None
    device.refresh_from_db()
    return device, codes


def password_step(client: Client, number: str, login: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(
        "/accounts/login/", {"customer_number": number, "login": login, "password": password}
    )


def run_tasks() -> None:
    """Run the queued background jobs, as ``leitstand worker`` would."""
    call_command("db_worker", "--batch", "--queue-name=*", "--no-startup-delay", verbosity=0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Sink:
    """Messages a real SMTP server on loopback accepted."""

    port: int
    messages: list[tuple[list[str], Message]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        assert isinstance(raw, bytes)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message_from_bytes(raw)))
        return "250 OK"


@pytest.fixture
def smtp(settings) -> Iterator[Sink]:  # type: ignore[no-untyped-def]
    """aiosmtpd on 127.0.0.1, and Django's SMTP backend pointed at it."""
    sink = Sink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    try:
        yield sink
    finally:
        controller.stop()
