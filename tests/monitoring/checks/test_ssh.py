"""SSH banner check: parser and evaluation tables, real banner servers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.monitoring.checks.conftest import Background, serve
from tests.monitoring.checks.servers import start_sshd

from leitstand.monitoring.checks import ParamsError, Result, State, registry
from leitstand.monitoring.checks.base import MAX_BANNER_BYTES
from leitstand.monitoring.checks.ssh import SshCheck, SshParams, SshRaw, parse_banner

OPENSSH = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"host": "srv.example"}, SshParams("srv.example", 22)),
        ({"host": "srv.example", "port": 2222}, SshParams("srv.example", 2222)),
    ],
)
def test_parse_params(raw: dict[str, Any], expected: SshParams) -> None:
    assert SshCheck.parse_params(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "host: required"),
        ({"host": "srv.example", "port": "ssh"}, "port: must be an integer"),
        (
            {"host": "srv.example", "user": "root"},
            "unknown parameter 'user'; expected some of: host, port",
        ),
    ],
)
def test_parse_params_refuses(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamsError) as info:
        SshCheck.parse_params(raw)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("data", "banner"),
    [
        (OPENSSH, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"),
        (b"SSH-2.0-dropbear\n", "SSH-2.0-dropbear"),
        (b"Welcome!\r\nPlease behave.\r\nSSH-2.0-X\r\n", "SSH-2.0-X"),
        (b"SSH-2.0-incomplete", None),
        (b"", None),
        (b"HTTP/1.1 400 Bad Request\r\n\r\n", None),
    ],
)
def test_parse_banner(data: bytes, banner: str | None) -> None:
    assert parse_banner(data) == banner


PARAMS = SshParams("srv.example", 22)


@pytest.mark.parametrize(
    ("raw", "state", "summary"),
    [
        (
            SshRaw(latency_s=0.01, received=OPENSSH),
            State.OK,
            "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3",
        ),
        (
            SshRaw(latency_s=0.01, received=b"SSH-1.99-Cisco-1.25\r\n"),
            State.OK,
            "SSH-1.99-Cisco-1.25",
        ),
        (
            SshRaw(latency_s=0.01, received=b"SSH-1.5-OldServer\r\n"),
            State.CRITICAL,
            "SSH protocol 1 only: SSH-1.5-OldServer",
        ),
        (
            SshRaw(latency_s=0.01, received=b"SSH-3.0-Future\r\n"),
            State.CRITICAL,
            "unknown SSH protocol version: SSH-3.0-Future",
        ),
        (
            SshRaw(latency_s=0.01, received=b"220 mail.example ESMTP\r\n"),
            State.CRITICAL,
            "no SSH banner from srv.example:22: got '220 mail.example ESMTP\\r\\n'",
        ),
        (
            SshRaw(latency_s=0.01, received=b"x" * 100),
            State.CRITICAL,
            "no SSH banner from srv.example:22: got '" + "x" * 40 + "'…",
        ),
        (
            SshRaw(latency_s=0.01),
            State.CRITICAL,
            "no SSH banner from srv.example:22: connection closed without a word",
        ),
        (
            SshRaw(latency_s=0.01, read_error="connection reset by peer"),
            State.CRITICAL,
            "no SSH banner from srv.example:22: connection reset by peer",
        ),
        (
            SshRaw(connect_error="connection refused"),
            State.CRITICAL,
            "cannot connect to srv.example:22: connection refused",
        ),
    ],
)
def test_evaluate(raw: SshRaw, state: State, summary: str) -> None:
    result = SshCheck().evaluate(PARAMS, raw)
    assert (result.state, result.summary) == (state, summary)


def test_evaluate_metrics_and_details() -> None:
    result = SshCheck().evaluate(PARAMS, SshRaw(latency_s=0.01, received=OPENSSH))
    assert result.metrics == {"latency_s": 0.01}
    assert result.details == {"banner": "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"}


# -- real servers -----------------------------------------------------------------


def _writes(data: bytes) -> Any:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()
        await reader.read()  # wait for the client to hang up
        writer.close()

    return handler


@pytest.fixture(scope="module")
def openssh_port(background: Background) -> Iterator[int]:
    yield from serve(background, _writes(b"Hello there\r\n" + OPENSSH))


@pytest.fixture(scope="module")
def ssh1_port(background: Background) -> Iterator[int]:
    yield from serve(background, _writes(b"SSH-1.5-OldServer\r\n"))


@pytest.fixture(scope="module")
def hangup_port(background: Background) -> Iterator[int]:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    yield from serve(background, handler)


def run(port: int, timeout: float = 5) -> Result:
    return asyncio.run(registry.run_check("ssh", {"host": "127.0.0.1", "port": port}, timeout))


def test_openssh(openssh_port: int) -> None:
    result = run(openssh_port)
    assert (result.state, result.summary) == (State.OK, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3")
    assert 0 < result.metrics["latency_s"] < 1


def test_protocol_1(ssh1_port: int) -> None:
    assert run(ssh1_port).summary == "SSH protocol 1 only: SSH-1.5-OldServer"


def test_garbage(garbage_port: int) -> None:
    started = time.monotonic()
    result = run(garbage_port)
    assert (result.state, result.summary) == (
        State.CRITICAL,
        f"no SSH banner from 127.0.0.1:{garbage_port}: got '\\x00\\xff garbage \\x00\\xff garbage \\x00\\xff garbage \\x00\\xff garb'…",
    )
    assert time.monotonic() - started < 1


def test_garbage_read_is_capped(garbage_port: int) -> None:
    raw = asyncio.run(SshCheck().probe(SshParams("127.0.0.1", garbage_port), 5))
    assert len(raw.received) == MAX_BANNER_BYTES


def test_hangup(hangup_port: int) -> None:
    assert (
        run(hangup_port).summary
        == f"no SSH banner from 127.0.0.1:{hangup_port}: connection closed without a word"
    )


def test_silent_server_costs_one_timeout(silent_port: int) -> None:
    started = time.monotonic()
    assert run(silent_port, timeout=0.5) == Result(State.CRITICAL, "no answer within 0.5 s")
    assert 0.5 <= time.monotonic() - started < 1


def test_connection_refused(closed_port: int) -> None:
    assert run(closed_port) == Result(
        State.CRITICAL, f"cannot connect to 127.0.0.1:{closed_port}: connection refused"
    )


# -- against OpenSSH's sshd ---------------------------------------------------------


def test_sshd(sshd: int) -> None:
    result = run(sshd)
    assert result.state is State.OK
    assert result.summary.startswith("SSH-2.0-OpenSSH_")
    assert result.details["banner"] == result.summary


def test_sshd_stopped(tmp_path: Path) -> None:
    daemon, port = start_sshd(tmp_path)
    assert run(port).state is State.OK
    daemon.stop()
    assert run(port) == Result(
        State.CRITICAL, f"cannot connect to 127.0.0.1:{port}: connection refused"
    )
