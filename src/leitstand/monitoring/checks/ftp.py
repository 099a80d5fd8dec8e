"""FTP: banner 220, optionally explicit FTPS (``AUTH TLS``, RFC 4217)
required, optionally a login (USER/PASS) over that TLS.

Seed 003 §2 "Serverdienste (FTP, SSH, NTP)". Without ``user`` the check
never logs in: it sends QUIT after the banner (and the TLS upgrade).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from leitstand.monitoring.checks import fields
from leitstand.monitoring.checks.base import (
    CheckType,
    ParamsError,
    Result,
    State,
    client_ssl_context,
    close_quietly,
    describe_error,
    one_line,
)
from leitstand.monitoring.checks.registry import register
from leitstand.monitoring.checks.replies import Reply, ReplyError, read_reply


@dataclass(frozen=True)
class FtpParams:
    """Where the FTP server listens and whether ``AUTH TLS`` must work."""

    host: str
    port: int = 21
    tls_required: bool = False
    verify_tls: bool = True
    server_name: str | None = None
    ca_certificate: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class FtpRaw:
    """The banner and the ``AUTH TLS`` reply, or where the dialogue failed."""

    connect_error: str | None = None
    latency_s: float | None = None
    banner: Reply | None = None
    auth_tls: Reply | None = None
    tls_ok: bool = False
    login: Reply | None = None
    failed_at: str | None = None
    error: str | None = None


@register("ftp")
class FtpCheck(CheckType[FtpParams, FtpRaw]):
    """Read the banner, optionally upgrade with ``AUTH TLS``, QUIT."""

    Params = FtpParams

    @classmethod
    def parse_params(cls, raw: Mapping[str, Any]) -> FtpParams:
        fields.only(
            raw,
            [
                "host",
                "port",
                "tls_required",
                "verify_tls",
                "server_name",
                "ca_certificate",
                "user",
                "password",
            ],
        )
        user, password = fields.login(raw)
        tls_required = fields.boolean(raw, "tls_required", default=False)
        if user is not None and not tls_required:
            # The monitor must not send a password across the network in clear.
            raise ParamsError("user: logging in needs tls_required")
        return FtpParams(
            host=fields.host(raw),
            port=fields.port(raw, 21),
            tls_required=tls_required,
            verify_tls=fields.boolean(raw, "verify_tls", default=True),
            server_name=fields.optional_host(raw, "server_name"),
            ca_certificate=fields.ca_certificate(raw),
            user=user,
            password=password,
        )

    async def probe(self, params: FtpParams, timeout: float) -> FtpRaw:
        started = time.monotonic()
        try:
            reader, writer = await asyncio.open_connection(params.host, params.port)
        except OSError as exc:
            return FtpRaw(connect_error=describe_error(exc))
        latency = time.monotonic() - started
        banner: Reply | None = None
        auth_tls: Reply | None = None
        login: Reply | None = None
        stage = "banner"
        try:
            banner = await read_reply(reader, lenient=True)
            if banner.code == 220 and params.tls_required:
                stage = "AUTH TLS"
                writer.write(b"AUTH TLS\r\n")
                await writer.drain()
                auth_tls = await read_reply(reader, lenient=True)
                if auth_tls.code != 234:
                    return FtpRaw(latency_s=latency, banner=banner, auth_tls=auth_tls)
                stage = "TLS handshake"
                context = client_ssl_context(
                    verify=params.verify_tls, ca_certificate=params.ca_certificate
                )
                await writer.start_tls(context, server_hostname=params.server_name or params.host)
                if params.user is not None and params.password is not None:
                    stage = "login"
                    login = await _log_in(reader, writer, params.user, params.password)
            writer.write(b"QUIT\r\n")
            await writer.drain()
        except (OSError, ReplyError) as exc:
            return FtpRaw(
                latency_s=latency,
                banner=banner,
                auth_tls=auth_tls,
                tls_ok=stage == "login",
                login=login,
                failed_at=stage,
                error=describe_error(exc),
            )
        finally:
            await close_quietly(writer)
        return FtpRaw(
            latency_s=latency,
            banner=banner,
            auth_tls=auth_tls,
            tls_ok=auth_tls is not None,
            login=login,
        )

    def evaluate(self, params: FtpParams, raw: FtpRaw) -> Result:
        target = f"{params.host}:{params.port}"
        if raw.connect_error is not None:
            return Result(State.CRITICAL, f"cannot connect to {target}: {raw.connect_error}")
        metrics = {"latency_s": raw.latency_s} if raw.latency_s is not None else {}
        details = {"banner": raw.banner.text} if raw.banner is not None else {}

        def critical(summary: str) -> Result:
            return Result(State.CRITICAL, one_line(summary), metrics, details)

        if raw.failed_at == "TLS handshake":
            return critical(f"AUTH TLS handshake with {target} failed: {raw.error}")
        if raw.failed_at is not None and raw.failed_at != "login":
            return critical(f"no valid {raw.failed_at} reply from {target}: {raw.error}")
        if raw.banner is None or raw.banner.code != 220:
            return critical(f"unexpected banner: {raw.banner.text if raw.banner else 'none'}")
        if not params.tls_required:
            return Result(State.OK, raw.banner.text, metrics, details)
        if not raw.tls_ok:
            said = raw.auth_tls.text if raw.auth_tls else "no reply"
            return critical(f"AUTH TLS refused: {said}")
        if params.user is None:
            return Result(State.OK, f"{raw.banner.text} (AUTH TLS ok)", metrics, details)
        if raw.login is None or raw.login.code != 230:
            said = raw.login.text if raw.login is not None else raw.error or "no reply"
            return critical(f"login as {params.user} refused: {said}")
        return Result(
            State.OK,
            f"{raw.banner.text} (AUTH TLS ok, login as {params.user} ok)",
            metrics,
            details,
        )


async def _log_in(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, user: str, password: str
) -> Reply:
    """USER, then PASS when asked for it (331); the last reply."""
    writer.write(f"USER {user}\r\n".encode("ascii"))
    await writer.drain()
    reply = await read_reply(reader, lenient=True)
    if reply.code != 331:
        return reply
    writer.write(f"PASS {password}\r\n".encode("ascii"))
    await writer.drain()
    return await read_reply(reader, lenient=True)
