"""TLS certificate expiry: days left on the certificate a server presents.

Seed 002 §2.1 Priority 1 Services "Web server HTTP, HTTPS": an expiring
certificate takes HTTPS down as surely as a crashed web server, only on a
date known weeks in advance. The certificate is read even when verification
fails, so an expired or misissued certificate still reports its dates.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509

from leitstand.monitoring.checks import fields
from leitstand.monitoring.checks.base import (
    CheckType,
    ParamsError,
    Result,
    State,
    client_ssl_context,
    close_quietly,
    describe_error,
)
from leitstand.monitoring.checks.registry import register

SECONDS_PER_DAY = 86400


@dataclass(frozen=True)
class TlsCertParams:
    """Where the certificate is served and how many days left are too few."""

    host: str
    port: int = 443
    server_name: str | None = None
    warning_days: int = 21
    critical_days: int = 7
    verify: bool = True
    ca_certificate: str | None = None


@dataclass(frozen=True)
class TlsCertRaw:
    """The presented certificate's dates and names, or why there was none."""

    checked_at: datetime
    not_after: datetime | None = None
    subject: str = ""
    issuer: str = ""
    verify_error: str | None = None
    error: str | None = None


async def fetch_certificate(
    host: str, port: int, server_name: str, context: ssl.SSLContext
) -> bytes:
    """DER of the peer's certificate after a TLS handshake (then hang up)."""
    _, writer = await asyncio.open_connection(host, port, ssl=context, server_hostname=server_name)
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    finally:
        await close_quietly(writer)
    if not der:
        raise ssl.SSLError("the server presented no certificate")
    return bytes(der)


@register("tls_cert")
class TlsCertCheck(CheckType[TlsCertParams, TlsCertRaw]):
    """Connect with TLS and compare the certificate's notAfter with today."""

    Params = TlsCertParams

    @classmethod
    def parse_params(cls, raw: Mapping[str, Any]) -> TlsCertParams:
        fields.only(
            raw,
            [
                "host",
                "port",
                "server_name",
                "warning_days",
                "critical_days",
                "verify",
                "ca_certificate",
            ],
        )
        warning = fields.integer(raw, "warning_days", 21, minimum=0, maximum=3650)
        critical = fields.integer(raw, "critical_days", 7, minimum=0, maximum=3650)
        if critical > warning:
            raise ParamsError("critical_days: must not be greater than warning_days")
        return TlsCertParams(
            host=fields.host(raw),
            port=fields.port(raw, 443),
            server_name=fields.optional_host(raw, "server_name"),
            warning_days=warning,
            critical_days=critical,
            verify=fields.boolean(raw, "verify", default=True),
            ca_certificate=fields.ca_certificate(raw),
        )

    async def probe(self, params: TlsCertParams, timeout: float) -> TlsCertRaw:
        checked_at = datetime.now(UTC)
        server_name = params.server_name or params.host
        unverified = client_ssl_context(verify=False, ca_certificate=None)
        verify_error: str | None = None
        try:
            if params.verify:
                try:
                    der = await fetch_certificate(
                        params.host,
                        params.port,
                        server_name,
                        client_ssl_context(verify=True, ca_certificate=params.ca_certificate),
                    )
                except ssl.SSLCertVerificationError as exc:
                    # Verification failed: fetch it again unverified to read its dates.
                    verify_error = describe_error(exc)
                    der = await fetch_certificate(params.host, params.port, server_name, unverified)
            else:
                der = await fetch_certificate(params.host, params.port, server_name, unverified)
            cert = x509.load_der_x509_certificate(der)
        except (OSError, ValueError) as exc:
            return TlsCertRaw(checked_at=checked_at, error=describe_error(exc))
        return TlsCertRaw(
            checked_at=checked_at,
            not_after=cert.not_valid_after_utc,
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            verify_error=verify_error,
        )

    def evaluate(self, params: TlsCertParams, raw: TlsCertRaw) -> Result:
        target = f"{params.host}:{params.port}"
        if raw.not_after is None:
            return Result(State.CRITICAL, f"no certificate from {target}: {raw.error}")
        days_left = (raw.not_after - raw.checked_at).total_seconds() / SECONDS_PER_DAY
        metrics = {"days_left": days_left}
        details = {
            "not_after": raw.not_after.isoformat(),
            "subject": raw.subject,
            "issuer": raw.issuer,
        }
        date = f"{raw.not_after:%Y-%m-%d}"
        whole_days = int(days_left)
        if days_left < 0:
            ago = int(-days_left)
            return Result(
                State.CRITICAL,
                f"certificate expired on {date} ({ago} day{'' if ago == 1 else 's'} ago)",
                metrics,
                details,
            )
        plural = "" if whole_days == 1 else "s"
        if raw.verify_error is not None and params.verify:
            return Result(
                State.CRITICAL,
                f"{raw.verify_error} (expires {date})",
                metrics,
                details,
            )
        if days_left < params.critical_days:
            state = State.CRITICAL
        elif days_left < params.warning_days:
            state = State.WARNING
        else:
            state = State.OK
        return Result(
            state, f"certificate expires on {date} (in {whole_days} day{plural})", metrics, details
        )
