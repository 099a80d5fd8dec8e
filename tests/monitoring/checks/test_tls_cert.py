"""TLS certificate expiry: parameters, evaluation table, real TLS servers."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.monitoring.checks.conftest import Background, Pki, serve

from leitstand.monitoring.checks import ParamsError, Result, State, registry
from leitstand.monitoring.checks.tls_cert import TlsCertCheck, TlsCertParams, TlsCertRaw


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"host": "www.example.com"}, TlsCertParams("www.example.com")),
        (
            {
                "host": "192.0.2.10",
                "port": 8443,
                "server_name": "www.example.com",
                "warning_days": 30,
                "critical_days": 30,
                "verify": False,
            },
            TlsCertParams("192.0.2.10", 8443, "www.example.com", 30, 30, verify=False),
        ),
    ],
)
def test_parse_params(raw: dict[str, Any], expected: TlsCertParams) -> None:
    assert TlsCertCheck.parse_params(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "host: required"),
        (
            {"host": "a.example", "warning_days": 5},
            "critical_days: must not be greater than warning_days",
        ),
        (
            {"host": "a.example", "critical_days": -1},
            "critical_days: must be between 0 and 3650, got -1",
        ),
        ({"host": "a.example", "warning_days": "21"}, "warning_days: must be an integer"),
        ({"host": "a.example", "port": 0}, "port: must be between 1 and 65535, got 0"),
        ({"host": "a.example", "verify": "yes"}, "verify: must be true or false"),
        (
            {"host": "a.example", "sni": "b.example"},
            "unknown parameter 'sni'; expected some of: ca_certificate, critical_days, host, port, server_name, verify, warning_days",
        ),
    ],
)
def test_parse_params_refuses(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamsError) as info:
        TlsCertCheck.parse_params(raw)
    assert str(info.value) == message


NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
DEFAULT = TlsCertParams("www.example.com")


def seen(days: float, verify_error: str | None = None) -> TlsCertRaw:
    return TlsCertRaw(
        checked_at=NOW,
        not_after=NOW + timedelta(days=days),
        subject="CN=www.example.com",
        issuer="CN=Example CA",
        verify_error=verify_error,
    )


@pytest.mark.parametrize(
    ("params", "raw", "state", "summary"),
    [
        (DEFAULT, seen(90), State.OK, "certificate expires on 2027-02-20 (in 90 days)"),
        (DEFAULT, seen(21), State.OK, "certificate expires on 2026-12-13 (in 21 days)"),
        (DEFAULT, seen(20.9), State.WARNING, "certificate expires on 2026-12-13 (in 20 days)"),
        (DEFAULT, seen(7), State.WARNING, "certificate expires on 2026-11-29 (in 7 days)"),
        (DEFAULT, seen(6.5), State.CRITICAL, "certificate expires on 2026-11-29 (in 6 days)"),
        (DEFAULT, seen(1.5), State.CRITICAL, "certificate expires on 2026-11-24 (in 1 day)"),
        (DEFAULT, seen(0.25), State.CRITICAL, "certificate expires on 2026-11-22 (in 0 days)"),
        (DEFAULT, seen(-1.5), State.CRITICAL, "certificate expired on 2026-11-21 (1 day ago)"),
        (DEFAULT, seen(-40), State.CRITICAL, "certificate expired on 2026-10-13 (40 days ago)"),
        (
            DEFAULT,
            seen(-3, "certificate verify failed: certificate has expired"),
            State.CRITICAL,
            "certificate expired on 2026-11-19 (3 days ago)",
        ),
        (
            DEFAULT,
            seen(90, "certificate verify failed: self-signed certificate"),
            State.CRITICAL,
            "certificate verify failed: self-signed certificate (expires 2027-02-20)",
        ),
        (
            TlsCertParams("www.example.com", verify=False),
            seen(90, "certificate verify failed: self-signed certificate"),
            State.OK,
            "certificate expires on 2027-02-20 (in 90 days)",
        ),
        (
            TlsCertParams("www.example.com", warning_days=0, critical_days=0),
            seen(0.5),
            State.OK,
            "certificate expires on 2026-11-23 (in 0 days)",
        ),
        (
            DEFAULT,
            TlsCertRaw(checked_at=NOW, error="connection refused"),
            State.CRITICAL,
            "no certificate from www.example.com:443: connection refused",
        ),
    ],
)
def test_evaluate(params: TlsCertParams, raw: TlsCertRaw, state: State, summary: str) -> None:
    result = TlsCertCheck().evaluate(params, raw)
    assert (result.state, result.summary) == (state, summary)


def test_evaluate_metrics_and_details() -> None:
    result = TlsCertCheck().evaluate(DEFAULT, seen(30))
    assert result.metrics == {"days_left": 30.0}
    assert result.details == {
        "not_after": "2026-12-22T12:00:00+00:00",
        "subject": "CN=www.example.com",
        "issuer": "CN=Example CA",
    }


# -- real TLS servers -----------------------------------------------------------


async def _hello(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"hello\r\n")
    writer.close()


@dataclass(frozen=True)
class Ports:
    valid: int
    expired: int
    wrong_host: int
    expiring: int


@pytest.fixture(scope="module")
def ports(background: Background, pki: Pki) -> Iterator[Ports]:
    contexts: list[ssl.SSLContext] = [pki.valid, pki.expired, pki.wrong_host, pki.expiring]
    servers = [serve(background, _hello, tls=context) for context in contexts]
    yield Ports(*(next(server) for server in servers))
    for server in servers:
        next(server, None)


def run(params: dict[str, Any]) -> Result:
    return asyncio.run(registry.run_check("tls_cert", params, 5))


def test_valid_certificate(ports: Ports, pki: Pki) -> None:
    result = run({"host": "127.0.0.1", "port": ports.valid, "ca_certificate": pki.ca_pem})
    assert result.state is State.OK
    # trustme issues leaf certificates valid for about ten years.
    assert result.metrics["days_left"] > 3000
    assert "O=trustme" in result.details["issuer"]


def test_expiring_certificate(ports: Ports, pki: Pki) -> None:
    result = run({"host": "127.0.0.1", "port": ports.expiring, "ca_certificate": pki.ca_pem})
    assert result == Result(
        State.CRITICAL,
        f"certificate expires on {pki.expiring_not_after:%Y-%m-%d} (in 5 days)",
        result.metrics,
        result.details,
    )
    assert 5 < result.metrics["days_left"] < 5.5


def test_expired_certificate_is_read_despite_failed_verification(ports: Ports, pki: Pki) -> None:
    result = run({"host": "127.0.0.1", "port": ports.expired, "ca_certificate": pki.ca_pem})
    assert (result.state, result.summary) == (
        State.CRITICAL,
        f"certificate expired on {pki.expired_not_after:%Y-%m-%d} (2 days ago)",
    )


def test_wrong_host_name(ports: Ports, pki: Pki) -> None:
    result = run({"host": "127.0.0.1", "port": ports.wrong_host, "ca_certificate": pki.ca_pem})
    assert result.state is State.CRITICAL
    assert result.summary.startswith(
        "certificate verify failed: IP address mismatch, certificate is not valid for '127.0.0.1'. (expires "
    )


def test_unknown_issuer_without_verification(ports: Ports) -> None:
    assert run({"host": "127.0.0.1", "port": ports.valid}).summary.startswith(
        "certificate verify failed: unable to get local issuer certificate (expires "
    )
    assert run({"host": "127.0.0.1", "port": ports.valid, "verify": False}).state is State.OK


def test_connection_refused(closed_port: int) -> None:
    assert run({"host": "127.0.0.1", "port": closed_port}) == Result(
        State.CRITICAL, f"no certificate from 127.0.0.1:{closed_port}: connection refused"
    )


def test_not_tls(garbage_port: int) -> None:
    assert run({"host": "127.0.0.1", "port": garbage_port}) == Result(
        State.CRITICAL,
        f"no certificate from 127.0.0.1:{garbage_port}: TLS error: wrong version number",
    )
