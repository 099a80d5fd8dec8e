"""Real receivers on loopback for the alerting tests: an SMTP server and an HTTP server.

Both can be stopped and started again on the same port, so a test can take a
receiver away for a while (an outage) and bring it back, as the outbox must
survive exactly that. Both record what they received across restarts.
"""

from __future__ import annotations

import asyncio
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from tests.conftest import Tenant

from leitstand.accounts.models import User
from leitstand.alerting.models import Channel, EscalationLevel, EscalationPolicy
from leitstand.monitoring.models import Check, CheckEvent, CheckStatus


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Gate:
    """While armed, holds the first request that arrives (after recording it) until released.

    That is a worker caught mid-send: the receiver has the message, the
    worker has not yet heard back, and the test can kill it right there.
    """

    armed: bool = False
    holding: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> bool:
        with self.lock:
            if self.armed and not self.holding.is_set():
                self.holding.set()
                return True
            return False


@dataclass
class Mail:
    """One message the SMTP sink accepted."""

    sender: str
    recipients: list[str]
    data: bytes

    def header(self, name: str) -> str:
        """A header, decoded (a German subject arrives RFC 2047-encoded)."""
        return str(message_from_bytes(self.data, policy=email.policy.default)[name])


class SmtpSink:
    """aiosmtpd on 127.0.0.1; ``reply`` set to e.g. ``"550 no such user"`` refuses DATA."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Mail] = []
        self.reply: str | None = None
        self.lock = threading.Lock()
        self.controller: Controller | None = None
        self.gate: Gate | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.reply is not None:
            return self.reply
        with self.lock:
            self.received.append(
                Mail(
                    str(envelope.mail_from),
                    list(envelope.rcpt_tos),
                    bytes(envelope.original_content or b""),
                )
            )
        if self.gate is not None and self.gate.take():
            await asyncio.to_thread(self.gate.released.wait, 60)
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@dataclass
class Request:
    """One request the HTTP sink received."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpSink:
    """ThreadingHTTPServer on 127.0.0.1 answering every POST with ``status``."""

    port: int = field(default_factory=free_port)
    status: int = 200
    received: list[Request] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None
    gate: Gate | None = None

    def start(self) -> None:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                sink.received.append(Request(self.path, dict(self.headers.items()), body))
                if sink.gate is not None and sink.gate.take():
                    sink.gate.released.wait(60)
                self.send_response(sink.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
def smtp_sink(settings: Any) -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "leitstand@provider.example"
    yield sink
    sink.stop()


@pytest.fixture
def http_sink() -> Iterator[HttpSink]:
    sink = HttpSink()
    sink.start()
    yield sink
    sink.stop()


# -- database helpers ---------------------------------------------------------------

T0 = datetime(2026, 11, 18, 3, 0, tzinfo=UTC)  # a Wednesday night, out of office hours


def event(
    check: Check,
    new_state: str,
    *,
    old_state: str = "ok",
    at: datetime = T0,
    kind: str = "state",
    **fields: Any,
) -> CheckEvent:
    """Store an event and the check status the engine would have written with it."""
    CheckStatus.objects.update_or_create(
        service_check=check, defaults={"state": new_state, "hard_state": new_state}
    )
    return CheckEvent.objects.create(
        service_check=check,
        at=at,
        kind=kind,
        old_state=old_state,
        new_state=new_state,
        priority=check.priority,
        **fields,
    )


def alarm_contact(tenant: Tenant, *channels: tuple[str, dict[str, Any]]) -> list[Channel]:
    """Book alarming for the tenant's contract and give its contact ``channels``."""
    tenant.contract.alarming_booked = True
    tenant.contract.save()
    tenant.contact.receives_alarms = True
    tenant.contact.save()
    return [
        Channel.objects.create(kind=kind, config=config, contact=tenant.contact, position=i)
        for i, (kind, config) in enumerate(channels)
    ]


def on_call(name: str = "oncall", *channels: tuple[str, dict[str, Any]]) -> User:
    """A staff user told at level 1 of the default policy, at once, on ``channels``.

    Without channels: one e-mail channel to ``<name>@provider.example``.
    """
    user = User.objects.create_user(name, f"{name}@provider.example", "x", is_staff=True)
    user.first_name = name.title()
    user.save()
    for position, (kind, config) in enumerate(
        channels or (("email", {"to": f"{name}@provider.example"}),)
    ):
        Channel.objects.create(kind=kind, config=config, user=user, position=position)
    policy, _ = EscalationPolicy.objects.get_or_create(
        name="default", defaults={"is_default": True}
    )
    number = policy.levels.count() + 1
    EscalationLevel.objects.create(policy=policy, number=number, user=user)
    return user
