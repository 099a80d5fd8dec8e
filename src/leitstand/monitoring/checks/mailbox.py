"""What the mailbox check types (IMAP, POP3) share: a greeting line, an
optional STARTTLS upgrade or implicit TLS, an optional login, and a polite
goodbye.

Seed 002 §2.1 Priority 1 Services "E-mail server IMAP, POP3, SMTP". Each
protocol is its own check type (``imap.py``, ``pop3.py``) that names its
greeting, its STARTTLS command and its default ports.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from leitstand.monitoring.checks import fields
from leitstand.monitoring.checks.base import (
    CheckType,
    ParamsError,
    Result,
    State,
    client_ssl_context,
    close_quietly,
    describe_error,
    explain,
    one_line,
    read_until,
)

# "[CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ...]" is long and says nothing
# about health; summaries leave response codes out.
_RESPONSE_CODE = re.compile(r"\[[^\]]*\]\s*")


@dataclass(frozen=True)
class MailboxParams:
    """Where the server listens and how TLS is used: ``tls`` for implicit TLS
    (993, 995), ``starttls`` to require the upgrade on the plain port; with
    ``user`` and ``password`` the check logs in (a mailbox account kept for
    monitoring), which proves that authentication and the mail store work.
    """

    host: str
    port: int
    tls: bool = False
    starttls: bool = False
    verify_tls: bool = True
    server_name: str | None = None
    ca_certificate: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class MailboxRaw:
    """The greeting, the STARTTLS answer and the login answer (the answer to
    the last login command), or the failure.
    """

    connect_error: str | None = None
    latency_s: float | None = None
    greeting: bytes = b""
    starttls_reply: bytes | None = None
    login_reply: bytes | None = None
    failed_at: str | None = None
    error: str | None = None


def first_line(data: bytes) -> str | None:
    """The first complete line, decoded, without its line end; None if none."""
    line, newline, _ = data.partition(b"\n")
    if not newline:
        return None
    return line.rstrip(b"\r").decode("utf-8", errors="replace")


def tagged_line(data: bytes) -> str | None:
    """The first complete line that is not an IMAP untagged ``* ...`` line:
    the answer to a command, after any untagged lines a server sends first.
    """
    *lines, _ = data.split(b"\n")
    for line in lines:
        if not line.startswith(b"* "):
            return line.rstrip(b"\r").decode("utf-8", errors="replace")
    return None


def _has_line(data: bytes) -> bool:
    return b"\n" in data


def _has_tagged_line(data: bytes) -> bool:
    return tagged_line(data) is not None


class MailboxCheck(CheckType[MailboxParams, MailboxRaw]):
    """A greeting-line protocol; subclasses fill in the protocol's words."""

    Params = MailboxParams
    protocol: ClassVar[str]
    plain_port: ClassVar[int]
    tls_port: ClassVar[int]
    greeting_ok: ClassVar[tuple[str, ...]]
    starttls_command: ClassVar[bytes]
    starttls_ok: ClassVar[str]
    goodbye: ClassVar[bytes]
    login_ok: ClassVar[str]

    @classmethod
    def login_commands(cls, user: str, password: str) -> list[bytes]:
        """The commands that log in; each must be answered with ``login_ok``."""
        raise NotImplementedError

    @classmethod
    def parse_params(cls, raw: Mapping[str, Any]) -> MailboxParams:
        fields.only(
            raw,
            [
                "host",
                "port",
                "tls",
                "starttls",
                "verify_tls",
                "server_name",
                "ca_certificate",
                "user",
                "password",
            ],
        )
        user, password = fields.login(raw)
        tls = fields.boolean(raw, "tls", default=False)
        starttls = fields.boolean(raw, "starttls", default=False)
        if tls and starttls:
            raise ParamsError("starttls: cannot be combined with tls (implicit TLS)")
        if user is not None and not (tls or starttls):
            # The monitor must not send a mailbox password across the network in clear.
            raise ParamsError("user: logging in needs tls or starttls")
        return MailboxParams(
            host=fields.host(raw),
            port=fields.port(raw, cls.tls_port if tls else cls.plain_port),
            tls=tls,
            starttls=starttls,
            verify_tls=fields.boolean(raw, "verify_tls", default=True),
            server_name=fields.optional_host(raw, "server_name"),
            ca_certificate=fields.ca_certificate(raw),
            user=user,
            password=password,
        )

    def _context(self, params: MailboxParams) -> ssl.SSLContext:
        return client_ssl_context(verify=params.verify_tls, ca_certificate=params.ca_certificate)

    async def probe(self, params: MailboxParams, timeout: float) -> MailboxRaw:
        server_name = params.server_name or params.host
        started = time.monotonic()
        try:
            if params.tls:
                reader, writer = await asyncio.open_connection(
                    params.host,
                    params.port,
                    ssl=self._context(params),
                    server_hostname=server_name,
                )
            else:
                reader, writer = await asyncio.open_connection(params.host, params.port)
        except OSError as exc:
            return MailboxRaw(connect_error=describe_error(exc))
        latency = time.monotonic() - started
        greeting = b""
        reply: bytes | None = None
        login_reply: bytes | None = None
        stage = "greeting"
        try:
            greeting = await read_until(reader, _has_line)
            greeted = (first_line(greeting) or "").startswith(self.greeting_ok)
            if params.starttls and greeted:
                stage = "STARTTLS"
                writer.write(self.starttls_command)
                await writer.drain()
                reply = await read_until(reader, _has_tagged_line)
                if (tagged_line(reply) or "").startswith(self.starttls_ok):
                    stage = "TLS handshake"
                    await writer.start_tls(self._context(params), server_hostname=server_name)
                else:
                    greeted = False  # never send a password after a refused STARTTLS
            if greeted and params.user is not None and params.password is not None:
                stage = "login"
                for command in self.login_commands(params.user, params.password):
                    writer.write(command)
                    await writer.drain()
                    login_reply = await read_until(reader, _has_tagged_line)
                    if not (tagged_line(login_reply) or "").startswith(self.login_ok):
                        break
            writer.write(self.goodbye)
            await writer.drain()
        except OSError as exc:
            return MailboxRaw(
                latency_s=latency,
                greeting=greeting,
                starttls_reply=reply,
                login_reply=login_reply,
                failed_at=stage,
                error=describe_error(exc),
            )
        finally:
            await close_quietly(writer)
        return MailboxRaw(
            latency_s=latency, greeting=greeting, starttls_reply=reply, login_reply=login_reply
        )

    def evaluate(self, params: MailboxParams, raw: MailboxRaw) -> Result:
        target = f"{params.host}:{params.port}"
        if raw.connect_error is not None:
            return Result(State.CRITICAL, f"cannot connect to {target}: {raw.connect_error}")
        metrics = {"latency_s": raw.latency_s} if raw.latency_s is not None else {}
        greeting = first_line(raw.greeting)
        details = {"greeting": one_line(greeting)} if greeting else {}

        def critical(summary: str) -> Result:
            return Result(State.CRITICAL, one_line(summary), metrics, details)

        if raw.failed_at == "TLS handshake":
            return critical(f"STARTTLS handshake with {target} failed: {raw.error}")
        if greeting is None:
            why = explain(raw.greeting, raw.error, "connection closed without a word")
            return critical(f"no {self.protocol} greeting from {target}: {why}")
        shown = _RESPONSE_CODE.sub("", greeting).strip()
        if not greeting.startswith(self.greeting_ok):
            return critical(f"{self.protocol} server refused: {shown}")
        if raw.failed_at is not None and raw.failed_at != "login":
            return critical(f"no {raw.failed_at} answer from {target}: {raw.error}")
        notes = []
        if params.tls:
            notes.append("TLS")
        if params.starttls:
            answer = tagged_line(raw.starttls_reply or b"")
            if answer is None or not answer.startswith(self.starttls_ok):
                said = answer or explain(raw.starttls_reply or b"", None, "no answer")
                return critical(f"STARTTLS refused: {said}")
            notes.append("STARTTLS ok")
        if params.user is not None:
            answer = tagged_line(raw.login_reply or b"")
            if answer is None or not answer.startswith(self.login_ok):
                said = explain(raw.login_reply or b"", raw.error, "no answer")
                if answer is not None:
                    said = _RESPONSE_CODE.sub("", answer).strip()
                return critical(f"login as {params.user} refused: {said}")
            notes.append(f"login as {params.user} ok")
        suffix = f" ({', '.join(notes)})" if notes else ""
        return Result(State.OK, one_line(shown + suffix), metrics, details)
