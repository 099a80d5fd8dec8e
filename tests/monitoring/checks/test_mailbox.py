"""IMAP and POP3 checks: parameters, parsers and evaluation tables, and small
scripted servers on loopback (plain, STARTTLS, implicit TLS, refusing).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from tests.monitoring.checks.conftest import Background, Handler, Pki, serve
from tests.monitoring.checks.servers import MAIL_PASSWORD, MAIL_USER, Dovecot

from leitstand.monitoring.checks import ParamsError, Result, State, registry
from leitstand.monitoring.checks.imap import ImapCheck
from leitstand.monitoring.checks.mailbox import MailboxParams, MailboxRaw, first_line, tagged_line
from leitstand.monitoring.checks.pop3 import Pop3Check

# -- parameters -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "raw", "expected"),
    [
        (ImapCheck, {"host": "mail.example"}, MailboxParams("mail.example", 143)),
        (
            ImapCheck,
            {"host": "mail.example", "tls": True},
            MailboxParams("mail.example", 993, tls=True),
        ),
        (
            ImapCheck,
            {"host": "mail.example", "starttls": True},
            MailboxParams("mail.example", 143, starttls=True),
        ),
        (Pop3Check, {"host": "mail.example"}, MailboxParams("mail.example", 110)),
        (
            Pop3Check,
            {"host": "mail.example", "starttls": True, "user": "monitor", "password": ""},
            MailboxParams("mail.example", 110, starttls=True, user="monitor", password=""),
        ),
        (
            Pop3Check,
            {"host": "mail.example", "tls": True},
            MailboxParams("mail.example", 995, tls=True),
        ),
        (
            Pop3Check,
            {"host": "mail.example", "tls": True, "port": 1995, "server_name": "pop.example"},
            MailboxParams("mail.example", 1995, tls=True, server_name="pop.example"),
        ),
    ],
)
def test_parse_params(
    check: type[ImapCheck | Pop3Check], raw: dict[str, Any], expected: MailboxParams
) -> None:
    assert check.parse_params(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "host: required"),
        (
            {"host": "mail.example", "tls": True, "starttls": True},
            "starttls: cannot be combined with tls (implicit TLS)",
        ),
        ({"host": "mail.example", "tls": "993"}, "tls: must be true or false"),
        (
            {"host": "mail.example", "login": "x"},
            "unknown parameter 'login'; expected some of: ca_certificate, host, password, port, server_name, starttls, tls, user, verify_tls",
        ),
        ({"host": "mail.example", "tls": True, "user": "x"}, "password: required with user"),
        ({"host": "mail.example", "tls": True, "password": "x"}, "user: required with password"),
        (
            {"host": "mail.example", "user": "x", "password": "y"},
            "user: logging in needs tls or starttls",
        ),
        (
            {"host": "mail.example", "tls": True, "user": "x", "password": "a\r\nA1 DELETE INBOX"},
            "password: only printable ASCII characters are allowed",
        ),
        (
            {"host": "mail.example", "tls": True, "user": "x y", "password": "z"},
            "user: must not contain spaces",
        ),
        (
            {"host": "mail.example", "tls": True, "user": "x", "password": 1234},
            "password: must be a string",
        ),
    ],
)
def test_parse_params_refuses(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamsError) as info:
        ImapCheck.parse_params(raw)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"+OK ready\r\n", "+OK ready"),
        (b"* OK a\nb\n", "* OK a"),
        (b"+OK no line end", None),
        (b"", None),
    ],
)
def test_first_line(data: bytes, line: str | None) -> None:
    assert first_line(data) == line


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"a1 OK Begin TLS\r\n", "a1 OK Begin TLS"),
        (b"* CAPABILITY IMAP4rev1\r\na1 OK Begin TLS\r\n", "a1 OK Begin TLS"),
        (b"* CAPABILITY IMAP4rev1\r\n", None),
        (b"+OK Begin TLS\r\n", "+OK Begin TLS"),
    ],
)
def test_tagged_line(data: bytes, line: str | None) -> None:
    assert tagged_line(data) == line


# -- evaluate ---------------------------------------------------------------------

IMAP = MailboxParams("mail.example", 143)
IMAP_TLS = MailboxParams("mail.example", 993, tls=True)
IMAP_STARTTLS = MailboxParams("mail.example", 143, starttls=True)
IMAP_LOGIN = MailboxParams("mail.example", 993, tls=True, user="monitor", password="s3cret")
DOVECOT = b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE STARTTLS] Dovecot ready.\r\n"


def seen(greeting: bytes = DOVECOT, **rest: Any) -> MailboxRaw:
    return MailboxRaw(latency_s=0.002, greeting=greeting, **rest)


@pytest.mark.parametrize(
    ("params", "raw", "state", "summary"),
    [
        (IMAP, seen(), State.OK, "* OK Dovecot ready."),
        (
            IMAP,
            seen(b"* PREAUTH [CAPABILITY IMAP4rev1] logged in as monitor\r\n"),
            State.OK,
            "* PREAUTH logged in as monitor",
        ),
        (IMAP_TLS, seen(), State.OK, "* OK Dovecot ready. (TLS)"),
        (
            IMAP_LOGIN,
            seen(login_reply=b"a3 OK [CAPABILITY IMAP4rev1] Logged in\r\n"),
            State.OK,
            "* OK Dovecot ready. (TLS, login as monitor ok)",
        ),
        (
            IMAP_LOGIN,
            seen(login_reply=b"a3 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
            State.CRITICAL,
            "login as monitor refused: a3 NO Authentication failed.",
        ),
        (
            IMAP_LOGIN,
            seen(login_reply=b"", failed_at="login", error="connection reset by peer"),
            State.CRITICAL,
            "login as monitor refused: connection reset by peer",
        ),
        (
            IMAP_LOGIN,
            seen(login_reply=b""),
            State.CRITICAL,
            "login as monitor refused: no answer",
        ),
        (
            IMAP_STARTTLS,
            seen(starttls_reply=b"a1 OK Begin TLS negotiation now.\r\n"),
            State.OK,
            "* OK Dovecot ready. (STARTTLS ok)",
        ),
        (
            IMAP_STARTTLS,
            seen(starttls_reply=b"a1 BAD STARTTLS not available\r\n"),
            State.CRITICAL,
            "STARTTLS refused: a1 BAD STARTTLS not available",
        ),
        (IMAP_STARTTLS, seen(starttls_reply=b""), State.CRITICAL, "STARTTLS refused: no answer"),
        (
            IMAP_STARTTLS,
            seen(starttls_reply=b"a1 OK"),
            State.CRITICAL,
            "STARTTLS refused: got 'a1 OK'",
        ),
        (
            IMAP_STARTTLS,
            seen(
                starttls_reply=b"a1 OK Begin TLS\r\n",
                failed_at="TLS handshake",
                error="certificate verify failed: Hostname mismatch",
            ),
            State.CRITICAL,
            "STARTTLS handshake with mail.example:143 failed: certificate verify failed: Hostname mismatch",
        ),
        (
            IMAP_STARTTLS,
            seen(failed_at="STARTTLS", error="connection reset by peer"),
            State.CRITICAL,
            "no STARTTLS answer from mail.example:143: connection reset by peer",
        ),
        (
            IMAP,
            seen(b"* BYE Too many connections from your IP\r\n"),
            State.CRITICAL,
            "IMAP server refused: * BYE Too many connections from your IP",
        ),
        (
            IMAP,
            seen(b"+OK Dovecot ready.\r\n"),
            State.CRITICAL,
            "IMAP server refused: +OK Dovecot ready.",
        ),
        (
            IMAP,
            seen(b"* OK no line end"),
            State.CRITICAL,
            "no IMAP greeting from mail.example:143: got '* OK no line end'",
        ),
        (
            IMAP,
            seen(b""),
            State.CRITICAL,
            "no IMAP greeting from mail.example:143: connection closed without a word",
        ),
        (
            IMAP,
            seen(b"", failed_at="greeting", error="connection reset by peer"),
            State.CRITICAL,
            "no IMAP greeting from mail.example:143: connection reset by peer",
        ),
        (
            IMAP_TLS,
            MailboxRaw(connect_error="certificate verify failed: certificate has expired"),
            State.CRITICAL,
            "cannot connect to mail.example:993: certificate verify failed: certificate has expired",
        ),
    ],
)
def test_evaluate_imap(params: MailboxParams, raw: MailboxRaw, state: State, summary: str) -> None:
    result = ImapCheck().evaluate(params, raw)
    assert (result.state, result.summary) == (state, summary)


@pytest.mark.parametrize(
    ("raw", "state", "summary"),
    [
        (seen(b"+OK Dovecot ready.\r\n"), State.OK, "+OK Dovecot ready."),
        (
            seen(b"+OK Dovecot ready.\r\n", starttls_reply=b"+OK Begin TLS\r\n"),
            State.OK,
            "+OK Dovecot ready. (STARTTLS ok)",
        ),
        (
            seen(b"+OK Dovecot ready.\r\n", starttls_reply=b"-ERR Unknown command\r\n"),
            State.CRITICAL,
            "STARTTLS refused: -ERR Unknown command",
        ),
        (
            seen(b"-ERR [SYS/TEMP] Server shutting down\r\n"),
            State.CRITICAL,
            "POP3 server refused: -ERR Server shutting down",
        ),
        (seen(DOVECOT), State.CRITICAL, "POP3 server refused: * OK Dovecot ready."),
    ],
)
def test_evaluate_pop3(raw: MailboxRaw, state: State, summary: str) -> None:
    params = MailboxParams("mail.example", 110, starttls=raw.starttls_reply is not None)
    result = Pop3Check().evaluate(params, raw)
    assert (result.state, result.summary) == (state, summary)


def test_evaluate_metrics_and_details() -> None:
    result = ImapCheck().evaluate(IMAP, seen())
    assert result.metrics == {"latency_s": 0.002}
    assert result.details == {"greeting": DOVECOT.decode().strip()}


# -- scripted servers -----------------------------------------------------------------


def _script(greeting: bytes, starttls: bytes, answer: bytes, tls: ssl.SSLContext | None) -> Handler:
    """A server that greets, answers ``starttls`` (upgrading when ``tls``) and
    says goodbye to anything else.
    """

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(greeting)
        await writer.drain()
        try:
            while line := await reader.readline():
                if line == starttls:
                    writer.write(answer)
                    await writer.drain()
                    if tls is not None:
                        await writer.start_tls(tls)
                else:
                    writer.write(b"* BYE\r\n" if line.startswith(b"a") else b"+OK bye\r\n")
                    await writer.drain()
                    break
        except (OSError, ssl.SSLError):
            pass  # the check hung up, e.g. after a failed handshake
        writer.close()

    return handler


@dataclass(frozen=True)
class Ports:
    imap: int
    imaps: int
    imap_no_tls: int
    pop3: int
    pop3_busy: int


@pytest.fixture(scope="module")
def ports(background: Background, pki: Pki) -> Iterator[Ports]:
    imap = b"* OK [CAPABILITY IMAP4rev1 STARTTLS] Leitstand test IMAP ready.\r\n"
    pop3 = b"+OK Leitstand test POP3 ready.\r\n"
    servers = [
        serve(
            background,
            _script(
                imap,
                b"a1 STARTTLS\r\n",
                b"* CAPABILITY IMAP4rev1\r\na1 OK Begin TLS\r\n",
                pki.valid,
            ),
        ),
        serve(
            background,
            _script(imap, b"a1 STARTTLS\r\n", b"a1 BAD already TLS\r\n", None),
            tls=pki.valid,
        ),
        serve(
            background,
            _script(imap, b"a1 STARTTLS\r\n", b"a1 BAD STARTTLS not available\r\n", None),
        ),
        serve(background, _script(pop3, b"STLS\r\n", b"+OK Begin TLS\r\n", pki.valid)),
        serve(background, _script(b"-ERR [SYS/TEMP] too busy\r\n", b"STLS\r\n", b"", None)),
    ]
    yield Ports(*(next(server) for server in servers))
    for server in servers:
        next(server, None)


def run(kind: str, params: dict[str, Any], timeout: float = 5) -> Result:
    return asyncio.run(registry.run_check(kind, {"host": "127.0.0.1", **params}, timeout))


def test_imap(ports: Ports) -> None:
    result = run("imap", {"port": ports.imap})
    assert (result.state, result.summary) == (State.OK, "* OK Leitstand test IMAP ready.")


def test_imap_starttls(ports: Ports, pki: Pki) -> None:
    result = run("imap", {"port": ports.imap, "starttls": True, "ca_certificate": pki.ca_pem})
    assert (result.state, result.summary) == (
        State.OK,
        "* OK Leitstand test IMAP ready. (STARTTLS ok)",
    )


def test_imap_starttls_unknown_ca(ports: Ports) -> None:
    result = run("imap", {"port": ports.imap, "starttls": True})
    assert (result.state, result.summary) == (
        State.CRITICAL,
        f"STARTTLS handshake with 127.0.0.1:{ports.imap} failed: certificate verify failed: unable to get local issuer certificate",
    )


def test_imap_starttls_refused(ports: Ports) -> None:
    result = run("imap", {"port": ports.imap_no_tls, "starttls": True})
    assert (result.state, result.summary) == (
        State.CRITICAL,
        "STARTTLS refused: a1 BAD STARTTLS not available",
    )


def test_imaps(ports: Ports, pki: Pki) -> None:
    result = run("imap", {"port": ports.imaps, "tls": True, "ca_certificate": pki.ca_pem})
    assert (result.state, result.summary) == (State.OK, "* OK Leitstand test IMAP ready. (TLS)")


def test_imaps_unknown_ca(ports: Ports) -> None:
    assert run("imap", {"port": ports.imaps, "tls": True}) == Result(
        State.CRITICAL,
        f"cannot connect to 127.0.0.1:{ports.imaps}: certificate verify failed: unable to get local issuer certificate",
    )


def test_pop3_starttls(ports: Ports, pki: Pki) -> None:
    result = run("pop3", {"port": ports.pop3, "starttls": True, "ca_certificate": pki.ca_pem})
    assert (result.state, result.summary) == (
        State.OK,
        "+OK Leitstand test POP3 ready. (STARTTLS ok)",
    )


def test_pop3_busy(ports: Ports) -> None:
    result = run("pop3", {"port": ports.pop3_busy})
    assert (result.state, result.summary) == (State.CRITICAL, "POP3 server refused: -ERR too busy")


def test_imap_garbage(garbage_port: int) -> None:
    result = run("imap", {"port": garbage_port})
    assert (result.state, result.summary) == (
        State.CRITICAL,
        f"no IMAP greeting from 127.0.0.1:{garbage_port}: got '\\x00\\xff garbage \\x00\\xff garbage \\x00\\xff garbage \\x00\\xff garb'…",
    )


def test_pop3_silent(silent_port: int) -> None:
    assert run("pop3", {"port": silent_port}, timeout=0.5) == Result(
        State.CRITICAL, "no answer within 0.5 s"
    )


def test_pop3_closed_port(closed_port: int) -> None:
    assert run("pop3", {"port": closed_port}) == Result(
        State.CRITICAL, f"cannot connect to 127.0.0.1:{closed_port}: connection refused"
    )


# -- against Dovecot (dovecot-imapd, dovecot-pop3d) ---------------------------------


def test_dovecot_imap(dovecot: Dovecot) -> None:
    result = run("imap", {"port": dovecot.imap})
    assert (result.state, result.summary) == (State.OK, "* OK Dovecot (Debian) ready.")
    assert "STARTTLS" in result.details["greeting"]


def test_dovecot_imap_starttls(dovecot: Dovecot, pki: Pki) -> None:
    result = run("imap", {"port": dovecot.imap, "starttls": True, "ca_certificate": pki.ca_pem})
    assert (result.state, result.summary) == (
        State.OK,
        "* OK Dovecot (Debian) ready. (STARTTLS ok)",
    )


def test_dovecot_imap_starttls_unknown_ca(dovecot: Dovecot) -> None:
    result = run("imap", {"port": dovecot.imap, "starttls": True})
    assert (result.state, result.summary) == (
        State.CRITICAL,
        f"STARTTLS handshake with 127.0.0.1:{dovecot.imap} failed: certificate verify failed: unable to get local issuer certificate",
    )


def test_dovecot_imaps(dovecot: Dovecot, pki: Pki) -> None:
    result = run("imap", {"port": dovecot.imaps, "tls": True, "ca_certificate": pki.ca_pem})
    assert (result.state, result.summary) == (State.OK, "* OK Dovecot (Debian) ready. (TLS)")


def test_dovecot_imaps_spoken_to_in_plain_text(dovecot: Dovecot) -> None:
    # A wrong "tls": false against port 993: the server waits for a TLS
    # ClientHello and the check for a greeting, until the deadline.
    result = run("imap", {"port": dovecot.imaps}, timeout=0.5)
    assert result == Result(State.CRITICAL, "no answer within 0.5 s")


def test_dovecot_pop3_starttls(dovecot: Dovecot, pki: Pki) -> None:
    result = run("pop3", {"port": dovecot.pop3, "starttls": True, "ca_certificate": pki.ca_pem})
    assert (result.state, result.summary) == (State.OK, "+OK Dovecot (Debian) ready. (STARTTLS ok)")


def test_dovecot_pop3s(dovecot: Dovecot, pki: Pki) -> None:
    result = run("pop3", {"port": dovecot.pop3s, "tls": True, "ca_certificate": pki.ca_pem})
    assert (result.state, result.summary) == (State.OK, "+OK Dovecot (Debian) ready. (TLS)")


def test_dovecot_pop3s_unknown_ca(dovecot: Dovecot) -> None:
    assert run("pop3", {"port": dovecot.pop3s, "tls": True}) == Result(
        State.CRITICAL,
        f"cannot connect to 127.0.0.1:{dovecot.pop3s}: certificate verify failed: unable to get local issuer certificate",
    )


def test_password_is_not_shown_in_repr() -> None:
    assert "s3cret" not in repr(IMAP_LOGIN)


@pytest.mark.parametrize(
    ("check", "user", "password", "commands"),
    [
        (ImapCheck, "monitor", "s3cret", [b'a3 LOGIN "monitor" "s3cret"\r\n']),
        (ImapCheck, "mon", 'a "b" \\c', [b'a3 LOGIN "mon" "a \\"b\\" \\\\c"\r\n']),
        (Pop3Check, "monitor", "two words", [b"USER monitor\r\n", b"PASS two words\r\n"]),
    ],
)
def test_login_commands(
    check: type[ImapCheck | Pop3Check], user: str, password: str, commands: list[bytes]
) -> None:
    assert check.login_commands(user, password) == commands


def _login(user: str = MAIL_USER, password: str = MAIL_PASSWORD) -> dict[str, str]:
    return {"user": user, "password": password}


def test_dovecot_imap_login(dovecot: Dovecot, pki: Pki) -> None:
    params = {"port": dovecot.imaps, "tls": True, "ca_certificate": pki.ca_pem, **_login()}
    result = run("imap", params)
    assert (result.state, result.summary) == (
        State.OK,
        f"* OK Dovecot (Debian) ready. (TLS, login as {MAIL_USER} ok)",
    )


def test_dovecot_imap_login_wrong_password(dovecot: Dovecot, pki: Pki) -> None:
    params = {"port": dovecot.imaps, "tls": True, "ca_certificate": pki.ca_pem}
    result = run("imap", {**params, **_login(password="wrong")})
    assert (result.state, result.summary) == (
        State.CRITICAL,
        f"login as {MAIL_USER} refused: a3 NO Authentication failed.",
    )


def test_dovecot_imap_starttls_login(dovecot: Dovecot, pki: Pki) -> None:
    params = {"port": dovecot.imap, "starttls": True, "ca_certificate": pki.ca_pem, **_login()}
    result = run("imap", params)
    assert (result.state, result.summary) == (
        State.OK,
        f"* OK Dovecot (Debian) ready. (STARTTLS ok, login as {MAIL_USER} ok)",
    )


def test_dovecot_pop3_login(dovecot: Dovecot, pki: Pki) -> None:
    params = {"port": dovecot.pop3, "starttls": True, "ca_certificate": pki.ca_pem, **_login()}
    result = run("pop3", params)
    assert (result.state, result.summary) == (
        State.OK,
        f"+OK Dovecot (Debian) ready. (STARTTLS ok, login as {MAIL_USER} ok)",
    )


def test_dovecot_pop3_login_unknown_user(dovecot: Dovecot, pki: Pki) -> None:
    params = {"port": dovecot.pop3s, "tls": True, "ca_certificate": pki.ca_pem}
    result = run("pop3", {**params, **_login(user="mallory")})
    assert (result.state, result.summary) == (
        State.CRITICAL,
        "login as mallory refused: -ERR Authentication failed.",
    )
