"""SMTP check: reply parser and evaluation tables, real aiosmtpd servers."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP
from tests.monitoring.checks.conftest import Background, Pki, serve

from leitstand.monitoring.checks import ParamsError, Result, State, registry
from leitstand.monitoring.checks.replies import Reply, ReplyError, parse_reply
from leitstand.monitoring.checks.smtp import SmtpCheck, SmtpParams, SmtpRaw

# -- parameters -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"host": "mx.example"}, SmtpParams("mx.example")),
        (
            {
                "host": "mx.example",
                "port": 587,
                "helo_name": "monitor.example",
                "starttls": True,
                "server_name": "mail.example",
            },
            SmtpParams(
                "mx.example", 587, "monitor.example", starttls=True, server_name="mail.example"
            ),
        ),
    ],
)
def test_parse_params(raw: dict[str, Any], expected: SmtpParams) -> None:
    assert SmtpCheck.parse_params(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "host: required"),
        ({"host": "mx.example", "starttls": "required"}, "starttls: must be true or false"),
        ({"host": "mx.example", "helo_name": ""}, "helo_name: must be a non-empty string"),
        (
            {"host": "mx.example", "helo_name": "x\r\nMAIL FROM:<a@b.example>"},
            "helo_name: 'x\\r\\nMAIL FROM:<a@b.example>' is not a host name or IP address",
        ),
        (
            {"host": "mx.example", "tls": True},
            "unknown parameter 'tls'; expected some of: ca_certificate, helo_name, host, port, server_name, starttls, verify_tls",
        ),
    ],
)
def test_parse_params_refuses(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamsError) as info:
        SmtpCheck.parse_params(raw)
    assert str(info.value) == message


# -- replies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"220 mx.example ESMTP Postfix\r\n", Reply(220, ("mx.example ESMTP Postfix",))),
        (b"220\r\n", Reply(220, ("",))),
        (
            b"220-mx.example ESMTP\r\n220-no UCE\r\n220 ready\r\n",
            Reply(220, ("mx.example ESMTP", "no UCE", "ready")),
        ),
        (
            b"250-mx.example\r\n250-SIZE 1000\r\n250 STARTTLS\r\n",
            Reply(250, ("mx.example", "SIZE 1000", "STARTTLS")),
        ),
        (b"220 mx.example\n", Reply(220, ("mx.example",))),
        (b"", None),
        (b"220 mx.example ESMTP", None),
        (b"220-mx.example\r\n", None),
    ],
)
def test_parse_reply(data: bytes, expected: Reply | None) -> None:
    assert parse_reply(data) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"SSH-2.0-OpenSSH\r\n", "got 'SSH-2.0-OpenSSH\\r\\n'"),
        (b"220-one\r\n250 two\r\n", "got '220-one\\r\\n250 two\\r\\n'"),
        (b"22 short\r\n", "got '22 short\\r\\n'"),
    ],
)
def test_parse_reply_refuses(data: bytes, message: str) -> None:
    with pytest.raises(ReplyError) as info:
        parse_reply(data)
    assert str(info.value) == message


def test_reply_text_and_extensions() -> None:
    reply = Reply(250, ("mx.example greets you", "PIPELINING", "size 1000", "starttls", ""))
    assert reply.text == "250 mx.example greets you"
    assert reply.extensions == frozenset({"PIPELINING", "SIZE", "STARTTLS"})


# -- evaluate ---------------------------------------------------------------------

PLAIN = SmtpParams("mx.example")
TLS = SmtpParams("mx.example", starttls=True)
BANNER = Reply(220, ("mx.example ESMTP Postfix",))
EHLO = Reply(250, ("mx.example", "PIPELINING", "STARTTLS"))
EHLO_NO_TLS = Reply(250, ("mx.example", "PIPELINING"))
READY = Reply(220, ("2.0.0 Ready to start TLS",))


def talk(**replies: Any) -> SmtpRaw:
    return SmtpRaw(latency_s=0.003, **replies)


@pytest.mark.parametrize(
    ("params", "raw", "state", "summary"),
    [
        (PLAIN, talk(banner=BANNER, ehlo=EHLO_NO_TLS), State.OK, "220 mx.example ESMTP Postfix"),
        (
            TLS,
            talk(banner=BANNER, ehlo=EHLO, starttls=READY, tls_ehlo=EHLO),
            State.OK,
            "220 mx.example ESMTP Postfix (STARTTLS ok)",
        ),
        (
            PLAIN,
            talk(banner=Reply(554, ("mx.example no SMTP service here",))),
            State.CRITICAL,
            "unexpected banner: 554 mx.example no SMTP service here",
        ),
        (
            PLAIN,
            talk(banner=BANNER, ehlo=Reply(502, ("5.5.2 Error: command not recognized",))),
            State.CRITICAL,
            "EHLO refused: 502 5.5.2 Error: command not recognized",
        ),
        (
            TLS,
            talk(banner=BANNER, ehlo=EHLO_NO_TLS),
            State.CRITICAL,
            "STARTTLS required but not offered by mx.example:25",
        ),
        (
            TLS,
            talk(banner=BANNER, ehlo=EHLO, starttls=Reply(454, ("4.7.0 TLS not available",))),
            State.CRITICAL,
            "STARTTLS refused: 454 4.7.0 TLS not available",
        ),
        (
            TLS,
            talk(banner=BANNER, ehlo=EHLO, starttls=READY),
            State.CRITICAL,
            "EHLO after STARTTLS refused: no reply",
        ),
        (
            TLS,
            talk(
                banner=BANNER,
                ehlo=EHLO,
                starttls=READY,
                failed_at="TLS handshake",
                error="certificate verify failed: certificate has expired",
            ),
            State.CRITICAL,
            "STARTTLS handshake with mx.example:25 failed: certificate verify failed: certificate has expired",
        ),
        (
            PLAIN,
            talk(failed_at="banner", error="got 'SSH-2.0-OpenSSH\\r\\n'"),
            State.CRITICAL,
            "no valid banner reply from mx.example:25: got 'SSH-2.0-OpenSSH\\r\\n'",
        ),
        (
            PLAIN,
            talk(banner=BANNER, failed_at="EHLO", error="connection reset by peer"),
            State.CRITICAL,
            "no valid EHLO reply from mx.example:25: connection reset by peer",
        ),
        (
            PLAIN,
            SmtpRaw(connect_error="connection refused"),
            State.CRITICAL,
            "cannot connect to mx.example:25: connection refused",
        ),
    ],
)
def test_evaluate(params: SmtpParams, raw: SmtpRaw, state: State, summary: str) -> None:
    result = SmtpCheck().evaluate(params, raw)
    assert (result.state, result.summary) == (state, summary)


def test_evaluate_metrics_and_details() -> None:
    result = SmtpCheck().evaluate(PLAIN, talk(banner=BANNER, ehlo=EHLO))
    assert result.metrics == {"latency_s": 0.003}
    assert result.details == {"banner": "220 mx.example ESMTP Postfix"}


# -- real servers -----------------------------------------------------------------


class _Handler:
    """aiosmtpd handler that accepts nothing beyond the greeting (none is needed)."""


def _aiosmtpd(background: Background, tls: ssl.SSLContext | None) -> Iterator[int]:
    def protocol() -> SMTP:
        return SMTP(
            _Handler(), hostname="mail.test.example", ident="ESMTP Leitstand-Test", tls_context=tls
        )

    async def start() -> asyncio.Server:
        return await asyncio.get_running_loop().create_server(protocol, "127.0.0.1", 0)

    server = background.run(start())
    yield server.sockets[0].getsockname()[1]

    async def stop() -> None:
        server.close()
        await server.wait_closed()

    background.run(stop())


@pytest.fixture(scope="module")
def smtp_port(background: Background) -> Iterator[int]:
    yield from _aiosmtpd(background, None)


@pytest.fixture(scope="module")
def starttls_port(background: Background, pki: Pki) -> Iterator[int]:
    yield from _aiosmtpd(background, pki.valid)


@pytest.fixture(scope="module")
def refusing_port(background: Background) -> Iterator[int]:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"554 mail.test.example no SMTP service here\r\n")
        await writer.drain()
        await reader.read()
        writer.close()

    yield from serve(background, handler)


def run(params: dict[str, Any], timeout: float = 5) -> Result:
    return asyncio.run(registry.run_check("smtp", {"host": "127.0.0.1", **params}, timeout))


def test_smtp(smtp_port: int) -> None:
    result = run({"port": smtp_port})
    assert (result.state, result.summary) == (
        State.OK,
        "220 mail.test.example ESMTP Leitstand-Test",
    )


def test_starttls(starttls_port: int, pki: Pki) -> None:
    result = run({"port": starttls_port, "starttls": True, "ca_certificate": pki.ca_pem})
    assert (result.state, result.summary) == (
        State.OK,
        "220 mail.test.example ESMTP Leitstand-Test (STARTTLS ok)",
    )


def test_starttls_with_an_unknown_ca(starttls_port: int) -> None:
    result = run({"port": starttls_port, "starttls": True})
    assert (result.state, result.summary) == (
        State.CRITICAL,
        f"STARTTLS handshake with 127.0.0.1:{starttls_port} failed: certificate verify failed: unable to get local issuer certificate",
    )


def test_starttls_not_offered(smtp_port: int) -> None:
    result = run({"port": smtp_port, "starttls": True})
    assert (result.state, result.summary) == (
        State.CRITICAL,
        f"STARTTLS required but not offered by 127.0.0.1:{smtp_port}",
    )


def test_refusing_server(refusing_port: int) -> None:
    result = run({"port": refusing_port})
    assert (result.state, result.summary) == (
        State.CRITICAL,
        "unexpected banner: 554 mail.test.example no SMTP service here",
    )


def test_garbage(garbage_port: int) -> None:
    result = run({"port": garbage_port})
    assert (result.state, result.summary) == (
        State.CRITICAL,
        f"no valid banner reply from 127.0.0.1:{garbage_port}: incomplete reply '\\x00\\xff garbage \\x00\\xff garbage \\x00\\xff garbage \\x00\\xff garb'…",
    )


def test_silent_server_costs_one_timeout(silent_port: int) -> None:
    assert run({"port": silent_port}, timeout=0.5) == Result(
        State.CRITICAL, "no answer within 0.5 s"
    )


def test_connection_refused(closed_port: int) -> None:
    assert run({"port": closed_port}) == Result(
        State.CRITICAL, f"cannot connect to 127.0.0.1:{closed_port}: connection refused"
    )
