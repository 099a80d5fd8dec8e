"""TCP: can a connection to host:port be opened, and how fast.

The building block under every service in seed 003 §2 ("Serverdienste (FTP,
SSH, NTP)") for which no protocol check exists yet.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from leitstand.monitoring.checks import fields
from leitstand.monitoring.checks.base import (
    CheckType,
    Result,
    State,
    describe_error,
    grade_latency,
)
from leitstand.monitoring.checks.registry import register


@dataclass(frozen=True)
class TcpParams:
    """Where to connect and how slow is too slow."""

    host: str
    port: int
    latency_warning_s: float | None = None
    latency_critical_s: float | None = None


@dataclass(frozen=True)
class TcpRaw:
    """Connect time in seconds, or why the connection failed."""

    latency_s: float | None
    error: str | None = None


@register("tcp")
class TcpCheck(CheckType[TcpParams, TcpRaw]):
    """Open a TCP connection and close it again."""

    Params = TcpParams

    @classmethod
    def parse_params(cls, raw: Mapping[str, Any]) -> TcpParams:
        fields.only(raw, ["host", "port", "latency_warning_s", "latency_critical_s"])
        warning, critical = fields.latency_thresholds(raw)
        return TcpParams(
            host=fields.host(raw),
            port=fields.port(raw, None),
            latency_warning_s=warning,
            latency_critical_s=critical,
        )

    async def probe(self, params: TcpParams, timeout: float) -> TcpRaw:
        started = time.monotonic()
        try:
            await connect_and_close(params.host, params.port)
        except OSError as exc:
            return TcpRaw(latency_s=None, error=describe_error(exc))
        return TcpRaw(latency_s=time.monotonic() - started)

    def evaluate(self, params: TcpParams, raw: TcpRaw) -> Result:
        target = f"{params.host}:{params.port}"
        if raw.latency_s is None:
            return Result(State.CRITICAL, f"cannot connect to {target}: {raw.error}")
        state = grade_latency(raw.latency_s, params.latency_warning_s, params.latency_critical_s)
        return Result(
            state,
            f"connected to {target} in {raw.latency_s * 1000:.0f} ms",
            metrics={"latency_s": raw.latency_s},
        )


@lru_cache(maxsize=65536)
def literal_family(host: str) -> socket.AddressFamily | None:
    """The address family of an IP literal, None for a host name. Cached: parsing
    the literal with ``ipaddress`` on every run cost ~20 us per check.
    """
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return None
    return socket.AF_INET6 if literal.version == 6 else socket.AF_INET


async def connect_and_close(host: str, port: int) -> None:
    """Open a TCP connection and close it at once: the whole TCP check.

    A bare non-blocking socket instead of ``asyncio.open_connection``: no
    transport, protocol and stream objects for a connection that carries no
    data (measured: 125 us of CPU per check instead of 224 us). And instead of
    ``loop.sock_connect``, which resolves the address again and wraps the wait
    in more futures, ``connect_ex`` plus one writer callback: 80-87 us instead
    of 93-129 us per connection here. The socket is closed normally (FIN, no
    RST), as any client would. Addresses are tried in the resolver's order,
    like ``open_connection``.
    """
    loop = asyncio.get_running_loop()
    infos: list[tuple[socket.AddressFamily, tuple[Any, ...]]]
    family = literal_family(host)
    if family is not None:
        infos = [(family, (host, port))]
    else:
        resolved = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        infos = [(family, address) for family, _, _, _, address in resolved]
    error: OSError | None = None
    for family, address in infos:
        try:
            await _connect(loop, family, address)
        except OSError as exc:
            error = exc
            continue
        return
    raise error or OSError(f"no address for {host}")


async def _connect(
    loop: asyncio.AbstractEventLoop, family: socket.AddressFamily, address: tuple[Any, ...]
) -> None:
    sock = socket.socket(family, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
    try:
        code = sock.connect_ex(address)
        if code in _IN_PROGRESS:
            fd = sock.fileno()
            writable = loop.create_future()
            loop.add_writer(fd, _set_done, writable)
            try:
                await writable
            finally:
                # Before close(): a closed fd number may be reused at once.
                loop.remove_writer(fd)
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            raise OSError(code, os.strerror(code))
    finally:
        sock.close()


_IN_PROGRESS = (errno.EINPROGRESS, errno.EAGAIN, errno.EWOULDBLOCK, errno.EALREADY)


def _set_done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
