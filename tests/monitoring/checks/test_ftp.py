"""FTP check: lenient multi-line replies, evaluation table, scripted servers."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from tests.monitoring.checks.conftest import Background, Handler, Pki, serve
from tests.monitoring.checks.servers import FTP_WRONG_PASSWORD, Vsftpd

from leitstand.monitoring.checks import ParamsError, Result, State, registry
from leitstand.monitoring.checks.ftp import FtpCheck, FtpParams, FtpRaw
from leitstand.monitoring.checks.replies import Reply, ReplyError, parse_reply


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"host": "ftp.example"}, FtpParams("ftp.example")),
        (
            {"host": "ftp.example", "port": 2121, "tls_required": True},
            FtpParams("ftp.example", 2121, tls_required=True),
        ),
        (
            {"host": "ftp.example", "tls_required": True, "user": "web1", "password": "s3cret"},
            FtpParams("ftp.example", tls_required=True, user="web1", password="s3cret"),
        ),
    ],
)
def test_parse_params(raw: dict[str, Any], expected: FtpParams) -> None:
    assert FtpCheck.parse_params(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "host: required"),
        ({"host": "ftp.example", "tls_required": 1}, "tls_required: must be true or false"),
        (
            {"host": "ftp.example", "login": "anonymous"},
            "unknown parameter 'login'; expected some of: ca_certificate, host, password, port, server_name, tls_required, user, verify_tls",
        ),
        (
            {"host": "ftp.example", "user": "web1", "password": "s3cret"},
            "user: logging in needs tls_required",
        ),
        (
            {"host": "ftp.example", "tls_required": True, "user": "web1"},
            "password: required with user",
        ),
        (
            {
                "host": "ftp.example",
                "tls_required": True,
                "user": "web1",
                "password": "x\r\nDELE a",
            },
            "password: only printable ASCII characters are allowed",
        ),
    ],
)
def test_parse_params_refuses(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamsError) as info:
        FtpCheck.parse_params(raw)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"220 (vsFTPd 3.0.3)\r\n", Reply(220, ("(vsFTPd 3.0.3)",))),
        (
            b"220-Welcome\r\n  free text\r\n220 ready\r\n",
            Reply(220, ("Welcome", "  free text", "ready")),
        ),
        (
            b"220-Welcome\r\n230 not the end\r\n220 ready\r\n",
            Reply(220, ("Welcome", "230 not the end", "ready")),
        ),
        (b"220-Welcome\r\nfree text\r\n", None),
    ],
)
def test_parse_reply_lenient(data: bytes, expected: Reply | None) -> None:
    assert parse_reply(data, lenient=True) == expected


@pytest.mark.parametrize("data", [b"SSH-2.0-x\r\n", b"hello\r\n220 ready\r\n"])
def test_parse_reply_lenient_still_needs_a_code_first(data: bytes) -> None:
    with pytest.raises(ReplyError):
        parse_reply(data, lenient=True)


PLAIN = FtpParams("ftp.example")
TLS = FtpParams("ftp.example", tls_required=True)
LOGIN = FtpParams("ftp.example", tls_required=True, user="web1", password="s3cret")
PROCEED = Reply(234, ("Proceed",))
BANNER = Reply(220, ("(vsFTPd 3.0.3)",))


@pytest.mark.parametrize(
    ("params", "raw", "state", "summary"),
    [
        (PLAIN, FtpRaw(latency_s=0.002, banner=BANNER), State.OK, "220 (vsFTPd 3.0.3)"),
        (
            TLS,
            FtpRaw(latency_s=0.002, banner=BANNER, auth_tls=Reply(234, ("Proceed",)), tls_ok=True),
            State.OK,
            "220 (vsFTPd 3.0.3) (AUTH TLS ok)",
        ),
        (
            TLS,
            FtpRaw(
                latency_s=0.002,
                banner=BANNER,
                auth_tls=Reply(530, ("Please login with USER and PASS.",)),
            ),
            State.CRITICAL,
            "AUTH TLS refused: 530 Please login with USER and PASS.",
        ),
        (TLS, FtpRaw(latency_s=0.002, banner=BANNER), State.CRITICAL, "AUTH TLS refused: no reply"),
        (
            LOGIN,
            FtpRaw(
                latency_s=0.002,
                banner=BANNER,
                auth_tls=PROCEED,
                tls_ok=True,
                login=Reply(230, ("Login successful.",)),
            ),
            State.OK,
            "220 (vsFTPd 3.0.3) (AUTH TLS ok, login as web1 ok)",
        ),
        (
            LOGIN,
            FtpRaw(
                latency_s=0.002,
                banner=BANNER,
                auth_tls=PROCEED,
                tls_ok=True,
                login=Reply(530, ("Login incorrect.",)),
            ),
            State.CRITICAL,
            "login as web1 refused: 530 Login incorrect.",
        ),
        (
            LOGIN,
            FtpRaw(
                latency_s=0.002,
                banner=BANNER,
                auth_tls=PROCEED,
                tls_ok=True,
                failed_at="login",
                error="connection reset by peer",
            ),
            State.CRITICAL,
            "login as web1 refused: connection reset by peer",
        ),
        (
            PLAIN,
            FtpRaw(latency_s=0.002, banner=Reply(421, ("Too many connections",))),
            State.CRITICAL,
            "unexpected banner: 421 Too many connections",
        ),
        (
            TLS,
            FtpRaw(
                latency_s=0.002,
                banner=BANNER,
                auth_tls=Reply(234, ("Proceed",)),
                failed_at="TLS handshake",
                error="TLS error: wrong version number",
            ),
            State.CRITICAL,
            "AUTH TLS handshake with ftp.example:21 failed: TLS error: wrong version number",
        ),
        (
            PLAIN,
            FtpRaw(latency_s=0.002, failed_at="banner", error="connection closed without a word"),
            State.CRITICAL,
            "no valid banner reply from ftp.example:21: connection closed without a word",
        ),
        (
            PLAIN,
            FtpRaw(connect_error="connection refused"),
            State.CRITICAL,
            "cannot connect to ftp.example:21: connection refused",
        ),
    ],
)
def test_evaluate(params: FtpParams, raw: FtpRaw, state: State, summary: str) -> None:
    result = FtpCheck().evaluate(params, raw)
    assert (result.state, result.summary) == (state, summary)


def _ftp(banner: bytes, auth_answer: bytes, tls: ssl.SSLContext | None) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(banner)
        await writer.drain()
        try:
            while line := await reader.readline():
                if line == b"AUTH TLS\r\n":
                    writer.write(auth_answer)
                    await writer.drain()
                    if tls is not None:
                        await writer.start_tls(tls)
                else:
                    writer.write(b"221 Goodbye.\r\n")
                    await writer.drain()
                    break
        except (OSError, ssl.SSLError):
            pass  # the check hung up after a failed handshake
        writer.close()

    return handler


@dataclass(frozen=True)
class Ports:
    ftps: int
    plain_only: int
    busy: int


@pytest.fixture(scope="module")
def ports(background: Background, pki: Pki) -> Iterator[Ports]:
    banner = b"220-Welcome to the Leitstand test FTP\r\n  be nice\r\n220 ready.\r\n"
    servers = [
        serve(background, _ftp(banner, b"234 Proceed with negotiation.\r\n", pki.valid)),
        serve(background, _ftp(banner, b"530 Please login with USER and PASS.\r\n", None)),
        serve(background, _ftp(b"421 Too many connections (8) from this IP\r\n", b"", None)),
    ]
    yield Ports(*(next(server) for server in servers))
    for server in servers:
        next(server, None)


def run(params: dict[str, Any], timeout: float = 5) -> Result:
    return asyncio.run(registry.run_check("ftp", {"host": "127.0.0.1", **params}, timeout))


def test_ftp(ports: Ports) -> None:
    result = run({"port": ports.plain_only})
    assert (result.state, result.summary) == (State.OK, "220 Welcome to the Leitstand test FTP")


def test_ftps(ports: Ports, pki: Pki) -> None:
    result = run({"port": ports.ftps, "tls_required": True, "ca_certificate": pki.ca_pem})
    assert (result.state, result.summary) == (
        State.OK,
        "220 Welcome to the Leitstand test FTP (AUTH TLS ok)",
    )


def test_ftps_unknown_ca(ports: Ports) -> None:
    result = run({"port": ports.ftps, "tls_required": True})
    assert (result.state, result.summary) == (
        State.CRITICAL,
        f"AUTH TLS handshake with 127.0.0.1:{ports.ftps} failed: certificate verify failed: unable to get local issuer certificate",
    )


def test_auth_tls_refused(ports: Ports) -> None:
    result = run({"port": ports.plain_only, "tls_required": True})
    assert (result.state, result.summary) == (
        State.CRITICAL,
        "AUTH TLS refused: 530 Please login with USER and PASS.",
    )


def test_busy(ports: Ports) -> None:
    result = run({"port": ports.busy})
    assert (result.state, result.summary) == (
        State.CRITICAL,
        "unexpected banner: 421 Too many connections (8) from this IP",
    )


def test_garbage(garbage_port: int) -> None:
    result = run({"port": garbage_port})
    assert (result.state, result.summary) == (
        State.CRITICAL,
        f"no valid banner reply from 127.0.0.1:{garbage_port}: incomplete reply '\\x00\\xff garbage \\x00\\xff garbage \\x00\\xff garbage \\x00\\xff garb'…",
    )


def test_silent(silent_port: int) -> None:
    assert run({"port": silent_port}, timeout=0.5) == Result(
        State.CRITICAL, "no answer within 0.5 s"
    )


# -- against vsftpd -----------------------------------------------------------------


def test_vsftpd(vsftpd: Vsftpd) -> None:
    result = run({"port": vsftpd.plain})
    assert (result.state, result.summary) == (State.OK, "220 Leitstand test FTP")


def test_vsftpd_auth_tls(vsftpd: Vsftpd, pki: Pki) -> None:
    result = run({"port": vsftpd.tls, "tls_required": True, "ca_certificate": pki.ca_pem})
    assert (result.state, result.summary) == (State.OK, "220 Leitstand test FTP (AUTH TLS ok)")


def test_vsftpd_expired_certificate(vsftpd: Vsftpd, pki: Pki) -> None:
    result = run({"port": vsftpd.expired, "tls_required": True, "ca_certificate": pki.ca_pem})
    assert (result.state, result.summary) == (
        State.CRITICAL,
        f"AUTH TLS handshake with 127.0.0.1:{vsftpd.expired} failed: certificate verify failed: certificate has expired",
    )


def test_vsftpd_expired_certificate_unverified(vsftpd: Vsftpd) -> None:
    result = run({"port": vsftpd.expired, "tls_required": True, "verify_tls": False})
    assert result.state is State.OK


def test_vsftpd_without_tls(vsftpd: Vsftpd, pki: Pki) -> None:
    # vsftpd without ssl_enable answers AUTH TLS like any command before login.
    result = run({"port": vsftpd.plain, "tls_required": True, "ca_certificate": pki.ca_pem})
    assert (result.state, result.summary) == (
        State.CRITICAL,
        "AUTH TLS refused: 530 Please login with USER and PASS.",
    )


def test_password_is_not_shown_in_repr() -> None:
    assert "s3cret" not in repr(LOGIN)


def test_vsftpd_login(vsftpd: Vsftpd, pki: Pki) -> None:
    # vsftpd asks anonymous for a password (331) and takes any.
    params = {"tls_required": True, "ca_certificate": pki.ca_pem}
    result = run({"port": vsftpd.tls, **params, "user": "anonymous", "password": "monitor@"})
    assert (result.state, result.summary) == (
        State.OK,
        "220 Leitstand test FTP (AUTH TLS ok, login as anonymous ok)",
    )


def test_vsftpd_login_refused(vsftpd: Vsftpd, pki: Pki) -> None:
    params = {"tls_required": True, "ca_certificate": pki.ca_pem, "user": "anonymous"}
    result = run({"port": vsftpd.tls, **params, "password": FTP_WRONG_PASSWORD})
    assert (result.state, result.summary) == (
        State.CRITICAL,
        "login as anonymous refused: 530 Login incorrect.",
    )


def test_vsftpd_login_unknown_user(vsftpd: Vsftpd, pki: Pki) -> None:
    # No such account: vsftpd asks PAM, which refuses after its own delay.
    params = {"tls_required": True, "ca_certificate": pki.ca_pem}
    result = run({"port": vsftpd.tls, **params, "user": "leitstand-nobody", "password": "x"})
    assert (result.state, result.summary) == (
        State.CRITICAL,
        "login as leitstand-nobody refused: 530 Login incorrect.",
    )
