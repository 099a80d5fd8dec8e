"""Real servers on loopback for the check-type tests, no mocks.

The servers run on one event loop in a background thread for the whole
session; each test drives its check with ``asyncio.run`` on its own loop, so
client and server never share a loop (as in production).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
import trustme

T = TypeVar("T")
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Background:
    """An event loop in a daemon thread that hosts the test servers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture(scope="session")
def background() -> Iterator[Background]:
    bg = Background()
    yield bg
    bg.close()


def serve(
    background: Background, handler: Handler, tls: ssl.SSLContext | None = None
) -> Iterator[int]:
    """Run a stream server on 127.0.0.1 (ephemeral port) while the caller yields."""

    async def start() -> asyncio.Server:
        return await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)

    server = background.run(start())
    yield server.sockets[0].getsockname()[1]

    async def stop() -> None:
        server.close()
        await server.wait_closed()

    background.run(stop())


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    # Accept, never answer; end when the client goes away.
    await reader.read()
    writer.close()


async def _garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    # An endless stream of bytes that are no protocol at all, no newlines.
    chunk = b"\x00\xff garbage " * 6000
    try:
        while True:
            writer.write(chunk)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


@pytest.fixture(scope="session")
def silent_port(background: Background) -> Iterator[int]:
    """A server that accepts connections and never says a word."""
    yield from serve(background, _silent)


@pytest.fixture(scope="session")
def garbage_port(background: Background) -> Iterator[int]:
    """A server that sends garbage without end."""
    yield from serve(background, _garbage)


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass(frozen=True)
class Pki:
    """A test CA and server contexts for good and bad certificates on 127.0.0.1."""

    ca: trustme.CA
    ca_pem: str
    valid: ssl.SSLContext
    expired: ssl.SSLContext
    wrong_host: ssl.SSLContext
    expiring: ssl.SSLContext
    expiring_not_after: datetime
    expired_not_after: datetime


def _server_context(cert: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


@pytest.fixture(scope="session")
def pki() -> Pki:
    ca = trustme.CA()
    now = datetime.now(UTC).replace(microsecond=0)
    expiring_not_after = now + timedelta(days=5, hours=12)
    expired_not_after = now - timedelta(days=2)
    return Pki(
        ca=ca,
        ca_pem=ca.cert_pem.bytes().decode(),
        valid=_server_context(ca.issue_cert("127.0.0.1")),
        expired=_server_context(
            ca.issue_cert(
                "127.0.0.1", not_before=now - timedelta(days=90), not_after=expired_not_after
            )
        ),
        wrong_host=_server_context(ca.issue_cert("other.example")),
        expiring=_server_context(ca.issue_cert("127.0.0.1", not_after=expiring_not_after)),
        expiring_not_after=expiring_not_after,
        expired_not_after=expired_not_after,
    )


# The real Debian servers (dovecot, vsftpd, sshd, chronyd, nsd), as fixtures
# for every test module here.
from tests.monitoring.checks.servers import (  # noqa: E402
    chrony,
    dovecot,
    nsd,
    sshd,
    vsftpd,
)

__all__ = ["chrony", "dovecot", "nsd", "sshd", "vsftpd"]
