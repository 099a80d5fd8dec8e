"""SMTP: banner 220, EHLO accepted, and optionally a working STARTTLS.

Seed 003 §2 "Mailsystem (SMTP, POP3, IMAP ...)"; seed 002 §2.1 Priority 1
Services "E-mail server IMAP, POP3, SMTP". The check ends with QUIT before any
MAIL FROM, so it never sends mail.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leitstand.monitoring.checks import fields
from leitstand.monitoring.checks.base import (
    CheckType,
    Result,
    State,
    client_ssl_context,
    close_quietly,
    describe_error,
    one_line,
)
from leitstand.monitoring.checks.registry import register
from leitstand.monitoring.checks.replies import Reply, ReplyError, read_reply


def _said(reply: Reply | None) -> str:
    return reply.text if reply is not None else "no reply"


@dataclass(frozen=True)
class SmtpParams:
    """Where the mail server listens and whether STARTTLS must work."""

    host: str
    port: int = 25
    helo_name: str | None = None
    starttls: bool = False
    verify_tls: bool = True
    server_name: str | None = None
    ca_certificate: str | None = None


@dataclass(frozen=True)
class SmtpRaw:
    """The replies of the dialogue, up to where it stopped, and why it stopped."""

    connect_error: str | None = None
    latency_s: float | None = None
    banner: Reply | None = None
    ehlo: Reply | None = None
    starttls: Reply | None = None
    tls_ehlo: Reply | None = None
    failed_at: str | None = None
    error: str | None = None


class _Dialogue:
    """The replies so far; ``raw`` snapshots them into an ``SmtpRaw``."""

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s
        self.replies: dict[str, Reply] = {}

    def raw(self, failed_at: str | None = None, error: str | None = None) -> SmtpRaw:
        return SmtpRaw(
            latency_s=self.latency_s,
            banner=self.replies.get("banner"),
            ehlo=self.replies.get("EHLO"),
            starttls=self.replies.get("STARTTLS"),
            tls_ehlo=self.replies.get("EHLO after STARTTLS"),
            failed_at=failed_at,
            error=error,
        )


@register("smtp")
class SmtpCheck(CheckType[SmtpParams, SmtpRaw]):
    """Greet the server, EHLO, optionally STARTTLS and EHLO again, QUIT."""

    Params = SmtpParams

    @classmethod
    def parse_params(cls, raw: Mapping[str, Any]) -> SmtpParams:
        fields.only(
            raw,
            [
                "host",
                "port",
                "helo_name",
                "starttls",
                "verify_tls",
                "server_name",
                "ca_certificate",
            ],
        )
        return SmtpParams(
            host=fields.host(raw),
            port=fields.port(raw, 25),
            helo_name=fields.optional_host(raw, "helo_name"),
            starttls=fields.boolean(raw, "starttls", default=False),
            verify_tls=fields.boolean(raw, "verify_tls", default=True),
            server_name=fields.optional_host(raw, "server_name"),
            ca_certificate=fields.ca_certificate(raw),
        )

    async def probe(self, params: SmtpParams, timeout: float) -> SmtpRaw:
        started = time.monotonic()
        try:
            reader, writer = await asyncio.open_connection(params.host, params.port)
        except OSError as exc:
            return SmtpRaw(connect_error=describe_error(exc))
        dialogue = _Dialogue(time.monotonic() - started)
        try:
            return await self._talk(params, reader, writer, dialogue)
        finally:
            await close_quietly(writer)

    async def _talk(
        self,
        params: SmtpParams,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        dialogue: _Dialogue,
    ) -> SmtpRaw:
        helo = f"EHLO {params.helo_name or socket.gethostname()}\r\n".encode()
        steps: list[tuple[str, bytes | None, int]] = [("banner", None, 220), ("EHLO", helo, 250)]
        stage = "banner"
        try:
            for stage, command, expected in steps:
                if command is not None:
                    writer.write(command)
                    await writer.drain()
                reply = dialogue.replies[stage] = await read_reply(reader)
                if reply.code != expected:
                    return dialogue.raw()
            if params.starttls and "STARTTLS" in dialogue.replies["EHLO"].extensions:
                stage = "STARTTLS"
                writer.write(b"STARTTLS\r\n")
                await writer.drain()
                reply = dialogue.replies[stage] = await read_reply(reader)
                if reply.code != 220:
                    return dialogue.raw()
                stage = "TLS handshake"
                context = client_ssl_context(
                    verify=params.verify_tls, ca_certificate=params.ca_certificate
                )
                await writer.start_tls(context, server_hostname=params.server_name or params.host)
                stage = "EHLO after STARTTLS"
                writer.write(helo)
                await writer.drain()
                dialogue.replies[stage] = await read_reply(reader)
            writer.write(b"QUIT\r\n")
            await writer.drain()
        except (OSError, ReplyError) as exc:
            return dialogue.raw(stage, describe_error(exc))
        return dialogue.raw()

    def evaluate(self, params: SmtpParams, raw: SmtpRaw) -> Result:
        target = f"{params.host}:{params.port}"
        if raw.connect_error is not None:
            return Result(State.CRITICAL, f"cannot connect to {target}: {raw.connect_error}")
        metrics = {"latency_s": raw.latency_s} if raw.latency_s is not None else {}
        details = {"banner": raw.banner.text} if raw.banner is not None else {}

        def critical(summary: str) -> Result:
            return Result(State.CRITICAL, one_line(summary), metrics, details)

        if raw.failed_at == "TLS handshake":
            return critical(f"STARTTLS handshake with {target} failed: {raw.error}")
        if raw.failed_at is not None:
            return critical(f"no valid {raw.failed_at} reply from {target}: {raw.error}")
        if raw.banner is None or raw.banner.code != 220:
            return critical(f"unexpected banner: {_said(raw.banner)}")
        if raw.ehlo is None or raw.ehlo.code != 250:
            return critical(f"EHLO refused: {_said(raw.ehlo)}")
        if not params.starttls:
            return Result(State.OK, raw.banner.text, metrics, details)
        if "STARTTLS" not in raw.ehlo.extensions:
            return critical(f"STARTTLS required but not offered by {target}")
        if raw.starttls is None or raw.starttls.code != 220:
            return critical(f"STARTTLS refused: {_said(raw.starttls)}")
        if raw.tls_ehlo is None or raw.tls_ehlo.code != 250:
            return critical(f"EHLO after STARTTLS refused: {_said(raw.tls_ehlo)}")
        return Result(State.OK, f"{raw.banner.text} (STARTTLS ok)", metrics, details)
