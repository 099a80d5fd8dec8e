"""SSH: the server answers with an SSH-2 protocol banner.

Seed 003 §2 "Serverdienste (FTP, SSH, NTP)". RFC 4253 §4.2: the server sends
``SSH-protoversion-softwareversion [comments]`` CR LF, possibly after other
lines; ``SSH-1.99`` means a server that also speaks 2.0.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leitstand.monitoring.checks import fields
from leitstand.monitoring.checks.base import (
    CheckType,
    Result,
    State,
    close_quietly,
    describe_error,
    explain,
    read_until,
)
from leitstand.monitoring.checks.registry import register


@dataclass(frozen=True)
class SshParams:
    """Where the SSH server listens."""

    host: str
    port: int = 22


@dataclass(frozen=True)
class SshRaw:
    """What the server sent after the connection opened (at most a few KiB)."""

    connect_error: str | None = None
    latency_s: float | None = None
    received: bytes = b""
    read_error: str | None = None


def parse_banner(data: bytes) -> str | None:
    """The first complete ``SSH-`` line, without its line end, or None."""
    *lines, _ = data.split(b"\n")
    for line in lines:
        if line.startswith(b"SSH-"):
            return line.rstrip(b"\r").decode("ascii", errors="replace")
    return None


@register("ssh")
class SshCheck(CheckType[SshParams, SshRaw]):
    """Connect and read the protocol banner; no authentication is attempted."""

    Params = SshParams

    @classmethod
    def parse_params(cls, raw: Mapping[str, Any]) -> SshParams:
        fields.only(raw, ["host", "port"])
        return SshParams(host=fields.host(raw), port=fields.port(raw, 22))

    async def probe(self, params: SshParams, timeout: float) -> SshRaw:
        started = time.monotonic()
        try:
            reader, writer = await asyncio.open_connection(params.host, params.port)
        except OSError as exc:
            return SshRaw(connect_error=describe_error(exc))
        latency = time.monotonic() - started
        try:
            received = await read_until(reader, lambda data: parse_banner(data) is not None)
        except OSError as exc:
            return SshRaw(latency_s=latency, read_error=describe_error(exc))
        finally:
            await close_quietly(writer)
        return SshRaw(latency_s=latency, received=received)

    def evaluate(self, params: SshParams, raw: SshRaw) -> Result:
        target = f"{params.host}:{params.port}"
        if raw.connect_error is not None:
            return Result(State.CRITICAL, f"cannot connect to {target}: {raw.connect_error}")
        metrics = {"latency_s": raw.latency_s} if raw.latency_s is not None else {}
        banner = parse_banner(raw.received)
        if banner is None:
            why = explain(raw.received, raw.read_error, "connection closed without a word")
            return Result(State.CRITICAL, f"no SSH banner from {target}: {why}", metrics)
        shown = banner[:100]
        details = {"banner": shown}
        if banner.startswith(("SSH-2.0-", "SSH-1.99-")):
            return Result(State.OK, shown, metrics, details)
        if banner.startswith("SSH-1."):
            return Result(State.CRITICAL, f"SSH protocol 1 only: {shown}", metrics, details)
        return Result(State.CRITICAL, f"unknown SSH protocol version: {shown}", metrics, details)
