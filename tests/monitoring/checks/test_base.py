"""Helpers every check type uses: error texts, one-line summaries, thresholds."""

from __future__ import annotations

import asyncio
import socket
import ssl

import pytest

from leitstand.monitoring.checks.base import (
    State,
    describe_error,
    explain,
    grade_latency,
    latency_note,
    one_line,
    printable,
    read_until,
)


def _verify_error(message: str) -> ssl.SSLCertVerificationError:
    exc = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] {message}")
    exc.verify_message = message
    return exc


def _ssl_error(reason: str) -> ssl.SSLError:
    exc = ssl.SSLError(1, f"[SSL: {reason}] {reason.lower()}")
    exc.reason = reason
    return exc


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (
            _verify_error("certificate has expired"),
            "certificate verify failed: certificate has expired",
        ),
        (_ssl_error("WRONG_VERSION_NUMBER"), "TLS error: wrong version number"),
        (
            socket.gaierror(-2, "Name or service not known"),
            "cannot resolve host name: Name or service not known",
        ),
        (TimeoutError(), "timed out"),
        (ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 1)"), "connection refused"),
        (ConnectionResetError(104, "Connection reset by peer"), "connection reset by peer"),
        (asyncio.IncompleteReadError(b"", 4), "connection closed by peer"),
        (OSError(101, "Network is unreachable"), "network is unreachable"),
        (OSError("Multiple exceptions: a, b"), "Multiple exceptions: a, b"),
        (ValueError("first line\nsecond line"), "first line"),
        (RuntimeError(), "RuntimeError"),
    ],
)
def test_describe_error(exc: BaseException, text: str) -> None:
    assert describe_error(exc) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HTTP 200 in 5 ms", "HTTP 200 in 5 ms"),
        ("two\r\nlines\t and  tabs", "two lines and tabs"),
        ("nul \x00 and bell \x07", "nul \\x00 and bell \\x07"),
        ("x" * 250, "x" * 199 + "…"),
    ],
)
def test_one_line(text: str, expected: str) -> None:
    assert one_line(text) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"220 ready\r\n", "'220 ready\\r\\n'"),
        (b"\x00\xff", "'\\x00\\xff'"),
        (b"a" * 41, "'" + "a" * 40 + "'…"),
    ],
)
def test_printable(data: bytes, expected: str) -> None:
    assert printable(data) == expected


@pytest.mark.parametrize(
    ("received", "error", "expected"),
    [
        (b"", None, "silence"),
        (b"HELLO", None, "got 'HELLO'"),
        (b"HELLO", "connection reset by peer", "connection reset by peer"),
    ],
)
def test_explain(received: bytes, error: str | None, expected: str) -> None:
    assert explain(received, error, "silence") == expected


@pytest.mark.parametrize(
    ("latency", "warning", "critical", "state", "note"),
    [
        (0.1, None, None, State.OK, ""),
        (0.1, 0.2, 1.0, State.OK, ""),
        (0.2, 0.2, 1.0, State.WARNING, " (warning at 0.2 s)"),
        (1.0, 0.2, 1.0, State.CRITICAL, " (critical at 1 s)"),
        (5.0, 0.2, None, State.WARNING, " (warning at 0.2 s)"),
        (5.0, None, 1.5, State.CRITICAL, " (critical at 1.5 s)"),
    ],
)
def test_grade_latency(
    latency: float, warning: float | None, critical: float | None, state: State, note: str
) -> None:
    assert grade_latency(latency, warning, critical) is state
    assert latency_note(state, warning, critical) == note


@pytest.mark.parametrize(
    ("chunks", "eof", "limit", "expected"),
    [
        # Stops as soon as the predicate holds, without waiting for more.
        ((b"SSH-2.0-", b"x\r\n"), False, 4096, b"SSH-2.0-x\r\n"),
        # Stops at end of stream when the predicate never holds.
        ((b"abc", b"def"), True, 4096, b"abcdef"),
        # Stops at the limit, whatever the peer still has to say.
        ((b"a" * 100,), False, 10, b"a" * 10),
        ((), True, 10, b""),
    ],
)
def test_read_until(chunks: tuple[bytes, ...], eof: bool, limit: int, expected: bytes) -> None:
    async def read() -> bytes:
        reader = asyncio.StreamReader()
        for chunk in chunks:
            reader.feed_data(chunk)
        if eof:
            reader.feed_eof()
        return await asyncio.wait_for(
            read_until(reader, lambda data: data.endswith(b"\n"), limit), 1
        )

    assert asyncio.run(read()) == expected
